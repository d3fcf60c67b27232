// Aligned text tables for recurrentctl's human-readable output, in the style
// of kubectl: upper-case headers, columns separated by at least three
// spaces, no borders. An empty cell prints as "-".
#ifndef RECURRENT_CLIENTS_CLI_TABLE_H_
#define RECURRENT_CLIENTS_CLI_TABLE_H_

#include <cstdio>
#include <string>
#include <vector>

namespace recurrent::cli {

// Not thread-safe; build it, then print it once.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // Adds one row; missing cells are empty, extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // Prints the headers and every row to `out`. Trailing spaces are trimmed.
  void Print(std::FILE* out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_TABLE_H_
