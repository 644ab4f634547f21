#include "cli/cli.h"

#include "core/utf8.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/email.h"
#include "core/strings.h"

namespace cpa::cli {

namespace {

constexpr std::string_view kHelpOption = "-h, --help";

const Option* find_option(const Command& command, std::string_view name) {
  for (const Option& option : command.options)
    if (option.name == name) return &option;
  return nullptr;
}

std::string option_label(const Option& option) {
  std::string label(option.name);
  if (!option.value.empty()) label.append(" ").append(option.value);
  return label;
}

void pad_to(std::string* s, size_t width) {
  size_t n = utf8_length(*s);
  if (n < width) s->append(width - n, ' ');
}

}  // namespace

// --- the command table

std::string Command::full_name() const {
  std::string out(group);
  if (!name.empty()) out.append(" ").append(name);
  return out;
}

std::string Command::usage() const {
  std::string out = "usage: cryptopay-auth " + full_name();
  if (!synopsis.empty()) out.append(" ").append(synopsis);
  out.append("\n\n").append(summary).append("\n");
  if (!details.empty()) out.append(details).append("\n");
  if (audited)
    out.append("Each run leaves a line in the log: what was run, by whom, and its result.\n");
  size_t width = kHelpOption.size();
  for (const Option& option : options) width = std::max(width, option_label(option).size());
  out.append("\noptions:\n");
  for (const Option& option : options) {
    std::string label = option_label(option);
    pad_to(&label, width);
    out.append("  ").append(label).append("  ").append(option.help).append("\n");
  }
  std::string help(kHelpOption);
  pad_to(&help, width);
  out.append("  ").append(help).append("  show this help\n");
  return out;
}

const std::string* Args::value(std::string_view option) const {
  auto it = options.find(option);
  return it == options.end() ? nullptr : &it->second;
}

Outcome parse_args(const Command& command, const std::vector<std::string>& argv, Args* out) {
  *out = Args();
  Outcome first_error;
  auto fail = [&](std::string reason) {
    if (first_error.ok()) first_error = Outcome::Usage(std::move(reason));
  };
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      out->operands.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      out->help = true;
      continue;
    }
    size_t eq = arg.find('=');
    std::string name = arg.substr(0, eq);
    const Option* option = name.rfind("--", 0) == 0 ? find_option(command, name) : nullptr;
    if (!option) {
      fail("unknown option '" + printable(name) + "'");
      continue;
    }
    std::string value;
    if (option->value.empty()) {
      if (eq != std::string::npos) fail("option " + name + " takes no value");
    } else if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argv.size()) {
      value = argv[++i];
    } else {
      fail("option " + name + " needs a value (" + std::string(option->value) + ")");
    }
    if (!out->options.emplace(name, std::move(value)).second) fail("option " + name + " given twice");
  }
  if (out->help) return Outcome();
  if (!first_error.ok()) return first_error;
  int n = static_cast<int>(out->operands.size());
  if (n > command.max_operands) {
    return Outcome::Usage("unexpected argument '" + printable(out->operands[command.max_operands]) +
                          "'");
  }
  if (n < command.min_operands) return Outcome::Usage("missing " + std::string(command.synopsis));
  return Outcome();
}

// --- outcomes

void print_error(std::string_view command, const Outcome& outcome) {
  const char* after = outcome.kind() == Outcome::Kind::kUsage         ? " (see --help)"
                      : outcome.kind() == Outcome::Kind::kUnavailable ? "; try again"
                                                                      : "";
  for (const std::string& message : outcome.messages()) {
    fprintf(stderr, "cryptopay-auth %.*s: %s%s\n", static_cast<int>(command.size()),
            command.data(), message.c_str(), after);
  }
}

// --- arguments

Produced<int64_t> limit_option(const Args& args, int64_t fallback, int64_t max) {
  const std::string* text = args.value("--limit");
  if (!text) return fallback;
  std::optional<int64_t> n = parse_decimal(*text);
  if (!n || *n < 1 || *n > max) {
    return Outcome::Usage("--limit must be a positive integer at most " + std::to_string(max));
  }
  return *n;
}

Produced<store::User> find_user(store::Store& store, const std::string& ref) {
  std::optional<store::User> user;
  if (!ref.empty() && ref.find_first_not_of("0123456789") == std::string::npos) {
    std::optional<int64_t> id = parse_decimal(ref);  // nullopt: too large for any id
    if (id) {
      CPA_ASSIGN_OR_RETURN(user, store.user_by_id(*id));
    }
    if (!user) return Outcome::Refused("no user with id " + ref);
  } else {
    CPA_ASSIGN_OR_RETURN(user, store.user_by_email_key(email_key(trim_whitespace(ref))));
    if (!user) return Outcome::Refused("no user with email '" + printable(ref) + "'");
  }
  return std::move(*user);
}

Outcome write(store::Store& store, const std::function<Outcome()>& body) {
  Outcome outcome;
  Status written = store.write([&]() -> Status {
    outcome = body();
    // Only a storage failure rolls back; what it was, `outcome` says.
    return outcome.is_storage_failure() ? Status::Internal("rolled back") : Status();
  });
  // Taking the lock or committing may fail after a body that did not.
  return outcome.ok() ? Outcome(written) : outcome;
}

// --- output

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[5];
      snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string iso_time(int64_t t) {
  char buf[24];
  return std::string(iso8601_utc(t, buf));
}

std::string iso_time(const std::optional<int64_t>& t) { return t ? iso_time(*t) : "-"; }

void Table::print() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], utf8_length(row[i]));
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - utf8_length(row[i]) + 2, ' ');
    }
    line += '\n';
    fwrite(line.data(), 1, line.size(), stdout);
  }
}

}  // namespace cpa::cli
