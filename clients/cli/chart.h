// A horizontal bar chart in plain text for the terminal, one line per bar:
//
//   2025-01-01  ████████████▌                    49.00 EUR
//   2025-02-01  █████████████████████████        98.00 EUR
//
// The longest bar fills the room the labels and values leave in `width`
// columns; bars are drawn with Unicode block characters in eighths of a
// column. Nothing depends on the terminal, so the output is deterministic.
#ifndef RECURRENT_CLIENTS_CLI_CHART_H_
#define RECURRENT_CLIENTS_CLI_CHART_H_

#include <cstdint>
#include <string>
#include <vector>

namespace recurrent::cli {

struct Bar {
  std::string label;       // left, padded to the longest label
  int64_t value = 0;       // the bar's length is proportional; <= 0: no bar
  std::string value_text;  // right, aligned right, e.g. "49.00 EUR"
};

// The width `recurrentctl` charts are drawn to.
inline constexpr int kChartWidth = 60;
// Bars get at least this many columns, however long labels and values are.
inline constexpr int kMinBarColumns = 10;

// The chart's lines, each ending in "\n" ("" for no bars). A positive value
// too small for an eighth of a column still shows one eighth.
std::string BarChart(const std::vector<Bar>& bars, int width = kChartWidth);

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_CHART_H_
