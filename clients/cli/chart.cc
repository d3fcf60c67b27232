#include "clients/cli/chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace recurrent::cli {
namespace {

constexpr char kFullBlock[] = "\u2588";
// Index n: a block n eighths of a column wide (0: nothing).
constexpr const char* kPartialBlocks[] = {
    "", "\u258F", "\u258E", "\u258D", "\u258C", "\u258B", "\u258A", "\u2589"};

// Display width of UTF-8 text: counts code points.
int Width(const std::string& text) {
  int width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

}  // namespace

std::string BarChart(const std::vector<Bar>& bars, int width) {
  int label_width = 0;
  int value_width = 0;
  int64_t max = 0;
  for (const Bar& bar : bars) {
    label_width = std::max(label_width, Width(bar.label));
    value_width = std::max(value_width, Width(bar.value_text));
    max = std::max(max, bar.value);
  }
  const int columns =
      std::max(kMinBarColumns, width - label_width - value_width - 4);
  std::string chart;
  for (const Bar& bar : bars) {
    int eighths = 0;
    if (bar.value > 0) {
      eighths =
          static_cast<int>(std::lround(static_cast<double>(bar.value) /
                                       static_cast<double>(max) * columns * 8));
      eighths = std::max(eighths, 1);
    }
    std::string drawn;
    for (int i = 0; i < eighths / 8; ++i) drawn += kFullBlock;
    drawn += kPartialBlocks[eighths % 8];
    const int drawn_width = eighths / 8 + (eighths % 8 > 0 ? 1 : 0);
    std::string line = absl::StrCat(
        bar.label, std::string(label_width - Width(bar.label) + 2, ' '), drawn,
        std::string(columns - drawn_width + 2, ' '),
        std::string(value_width - Width(bar.value_text), ' '), bar.value_text);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&chart, line, "\n");
  }
  return chart;
}

}  // namespace recurrent::cli
