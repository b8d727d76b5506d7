#include "orientation.hpp"

#include <cctype>
#include <map>
#include <regex>

namespace zimpute {
namespace {

// Label shapes for orientation detection. Cell-like: Cell12, cell_3, barcodes (ACGT..., -1).
// Gene-like: Ensembl ids, Gene12, human symbols (TP53, MT-CO1, HLA-DRB1), mouse symbols (Gapdh).
bool cell_like(const std::string& s) {
    static const std::regex re("^(cell[_.-]?[0-9]+|[ACGT]{8,}([-_][0-9]+)?)$", std::regex::icase);
    return std::regex_match(s, re);
}
bool gene_like(const std::string& s) {
    static const std::regex re("^(ENS[A-Z]*G[0-9]{5,}(\\.[0-9]+)?|Gene[_.-]?[0-9]+|[A-Z][A-Z0-9]{1,9}(-[A-Z0-9]{1,6})?|[A-Z][a-z][a-z0-9]{1,8})$");
    return std::regex_match(s, re) && !cell_like(s);
}
// Most labels one prefix and a number (S1, S2, ..., P01, ...): names of a series, which say
// nothing about what the rows are, unless the prefix itself says gene (Gene12, ENSG000...).
bool anonymous_series(const std::vector<std::string>& names) {
    std::map<std::string, std::size_t> prefixes;
    for (const auto& s : names) {
        std::size_t end = s.size();
        while (end > 0 && std::isdigit(static_cast<unsigned char>(s[end - 1]))) --end;
        if (end < s.size()) ++prefixes[s.substr(0, end)];
    }
    for (const auto& [prefix, n] : prefixes) {
        std::string lower;
        for (char c : prefix) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const bool says_gene = lower.rfind("gene", 0) == 0 || lower.rfind("ens", 0) == 0;
        if (!says_gene && 2 * n >= names.size()) return true;
    }
    return false;
}

double share(const std::vector<std::string>& names, bool (*pred)(const std::string&)) {
    if (names.empty()) return 0;
    std::size_t n = 0;
    for (const auto& s : names) n += pred(s);
    return static_cast<double>(n) / static_cast<double>(names.size());
}

}  // namespace

bool looks_transposed(const std::vector<std::string>& header, const std::vector<std::string>& row_names,
                      bool has_row_names) {
    return share(header, gene_like) >= 0.9 && share(header, cell_like) == 0 && !anonymous_series(header) &&
           !(has_row_names && share(row_names, gene_like) >= 0.5);
}

}  // namespace zimpute
