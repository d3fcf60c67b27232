#!/usr/bin/python3
"""Runs a command under the system-call filter of a systemd unit.

    unit_syscall_filter.py UNIT_FILE [--user=NAME] [--strict] -- COMMAND [ARGS...]

Reads the unit's SystemCallFilter= and SystemCallErrorNumber= lines, expands
their groups with `systemd-analyze syscall-filter`, installs the same
seccomp filter systemd would (libseccomp, python3-seccomp) and executes
COMMAND, as the user NAME if given (a root shell runs it as the unit's
DynamicUser would: without privileges, which some libraries use when they
have them -- SQLite hands its journal files to the database's owner). A
call the unit denies then kills the process with SIGSYS (or
fails with the unit's error number), as it would under systemd; with
--strict, it kills the process whatever the unit's error number, so that a
test sees every denied call. Only the system-call filter is applied (not
the unit's other sandboxing): a test can run the server under the filter
the installed unit gives it, without systemd as PID 1.

Follows systemd.exec(5): if the first SystemCallFilter= is an allow list,
every other call is denied (and the calls systemd always permits are
added); each later `~` list removes calls from it. A first `~` list denies
only its calls.
"""

import errno
import os
import pwd
import subprocess
import sys

import seccomp

# systemd.exec(5): "execve, exit, exit_group, getrlimit, rt_sigreturn,
# sigreturn and the system calls for querying time and sleeping are
# implicitly allow-listed".
ALWAYS_ALLOWED = [
    "execve", "exit", "exit_group", "getrlimit", "rt_sigreturn", "sigreturn",
    "clock_getres", "clock_gettime", "clock_nanosleep", "gettimeofday",
    "nanosleep", "time",
]


def expand(names, seen=None):
  """The system calls named by `names` (calls and @groups, recursively)."""
  seen = set() if seen is None else seen
  calls = set()
  for name in names:
    if not name.startswith("@"):
      calls.add(name)
      continue
    if name in seen:
      continue
    seen.add(name)
    listing = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             check=True, capture_output=True, text=True).stdout
    members = [line.strip() for line in listing.splitlines()[1:]
               if line.strip() and not line.strip().startswith("#")]
    calls |= expand(members, seen)
  return calls


def main():
  args = sys.argv[1:]
  if "--" not in args or args.index("--") == 0:
    sys.exit(__doc__)
  unit, options, command = args[0], args[1:args.index("--")], args[
      args.index("--") + 1:]
  user = None
  strict = False
  for option in options:
    if option == "--strict":
      strict = True
    elif option.startswith("--user="):
      user = pwd.getpwnam(option[len("--user="):])
    else:
      sys.exit(__doc__)
  if not command:
    sys.exit(__doc__)
  filters, error_number = [], None
  with open(unit) as f:
    for line in f:
      key, _, value = line.strip().partition("=")
      if key == "SystemCallFilter" and value:
        filters.append(value.split())
      elif key == "SystemCallErrorNumber" and value:
        error_number = getattr(errno, value)
  if not filters:
    sys.exit(f"{unit} has no SystemCallFilter=")

  deny = (seccomp.KILL_PROCESS if error_number is None or strict else
          seccomp.ERRNO(error_number))
  allow_list = not filters[0][0].startswith("~")
  listed = set(ALWAYS_ALLOWED) if allow_list else set()
  for entry in filters:
    inverted = entry[0].startswith("~")
    names = [entry[0].lstrip("~")] + entry[1:]
    if inverted == allow_list:  # a ~ list after an allow list, or the reverse
      listed -= expand(names)
    else:
      listed |= expand(names)

  resolvable = []
  for name in sorted(listed):
    try:
      number = seccomp.resolve_syscall(seccomp.Arch.NATIVE, name)
    except ValueError:  # a name libseccomp does not know
      continue
    if number < 0:  # not a call of this architecture
      continue
    resolvable.append(name)
  if allow_list:
    rules = seccomp.SyscallFilter(defaction=deny)
    for name in resolvable:
      rules.add_rule(seccomp.ALLOW, name)
  else:
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in resolvable:
      rules.add_rule(deny, name)
  if user is not None:
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
  rules.load()  # sets no_new_privs, as NoNewPrivileges= does
  os.execvp(command[0], command)


if __name__ == "__main__":
  main()
