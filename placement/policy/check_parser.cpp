// The policy language: oslo_policy/_parser.py's tokenizer and grammar as a recursive descent.
//
// Tokens are split on whitespace; leading '(' and trailing ')' of a token are tokens of their
// own (so "%(project_id)s" keeps its parentheses); and / or / not are operators in any case.
//   or_expr  := and_expr ("or" and_expr)*
//   and_expr := not_expr ("and" not_expr)*
//   not_expr := "not" not_expr | "(" or_expr ")" | check
//   check    := "@" | "!" | KIND ":" MATCH

#include <cctype>

#include "placement/policy/policy.h"

namespace bwfloor::placement::policy {
namespace {

struct Token {
  enum class Type { kOpen, kClose, kAnd, kOr, kNot, kCheck, kString };
  Type type;
  std::string text;
  size_t position;  // 1-based
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    std::string_view tok = text.substr(i, end - i);
    size_t pos = i + 1;
    while (!tok.empty() && tok.front() == '(') {
      out.push_back({Token::Type::kOpen, "(", pos++});
      tok.remove_prefix(1);
    }
    size_t trail = 0;
    while (trail < tok.size() && tok[tok.size() - 1 - trail] == ')') ++trail;
    std::string_view clean = tok.substr(0, tok.size() - trail);
    if (!clean.empty()) {
      const std::string lowered = lower(clean);
      if (lowered == "and") {
        out.push_back({Token::Type::kAnd, std::string(clean), pos});
      } else if (lowered == "or") {
        out.push_back({Token::Type::kOr, std::string(clean), pos});
      } else if (lowered == "not") {
        out.push_back({Token::Type::kNot, std::string(clean), pos});
      } else if (tok.size() >= 2 && ((tok.front() == '"' && tok.back() == '"') ||
                                     (tok.front() == '\'' && tok.back() == '\''))) {
        out.push_back({Token::Type::kString, std::string(tok), pos});
      } else {
        out.push_back({Token::Type::kCheck, std::string(clean), pos});
      }
    }
    for (size_t k = 0; k < trail; ++k) {
      out.push_back({Token::Type::kClose, ")", pos + clean.size() + k});
    }
    i = end;
  }
  return out;
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, std::string_view ruleName, size_t length)
      : tokens_(std::move(tokens)), ruleName_(ruleName), length_(length) {}

  Result<Check> parse() {
    ASSIGN_OR_RETURN(Check check, orExpr());
    if (next_ < tokens_.size()) {
      return error(tokens_[next_].position, "unexpected '" + tokens_[next_].text + "'");
    }
    return check;
  }

 private:
  Error error(size_t position, const std::string& why) const {
    return makeError(ErrorCode::kInvalidArgument,
                     "rule '" + ruleName_ + "': position " + std::to_string(position) + ": " + why);
  }
  bool at(Token::Type type) const { return next_ < tokens_.size() && tokens_[next_].type == type; }

  Result<Check> binary(Token::Type op, Check::Kind kind, Result<Check> (Parser::*operand)()) {
    ASSIGN_OR_RETURN(Check first, (this->*operand)());
    if (!at(op)) return first;
    Check out;
    out.kind = kind;
    out.children.push_back(std::move(first));
    while (at(op)) {
      ++next_;
      ASSIGN_OR_RETURN(Check more, (this->*operand)());
      out.children.push_back(std::move(more));
    }
    return out;
  }
  Result<Check> orExpr() { return binary(Token::Type::kOr, Check::Kind::kOr, &Parser::andExpr); }
  Result<Check> andExpr() { return binary(Token::Type::kAnd, Check::Kind::kAnd, &Parser::notExpr); }

  Result<Check> notExpr() {
    if (next_ >= tokens_.size()) return error(length_ + 1, "a check is missing at the end");
    const Token& tok = tokens_[next_];
    switch (tok.type) {
      case Token::Type::kNot: {
        ++next_;
        ASSIGN_OR_RETURN(Check operand, notExpr());
        Check out;
        out.kind = Check::Kind::kNot;
        out.children.push_back(std::move(operand));
        return out;
      }
      case Token::Type::kOpen: {
        ++next_;
        ASSIGN_OR_RETURN(Check inner, orExpr());
        if (!at(Token::Type::kClose)) {
          return error(next_ < tokens_.size() ? tokens_[next_].position : length_ + 1,
                       "')' expected to close the '(' at position " + std::to_string(tok.position));
        }
        ++next_;
        return inner;
      }
      case Token::Type::kCheck:
        ++next_;
        return check(tok);
      case Token::Type::kString:
        return error(tok.position, "a quoted string " + tok.text + " is not a check");
      default:
        return error(tok.position, "a check is expected, not '" + tok.text + "'");
    }
  }

  Result<Check> check(const Token& tok) {
    Check out;
    if (tok.text == "@") return out;
    if (tok.text == "!") {
      out.kind = Check::Kind::kFalse;
      return out;
    }
    const size_t colon = tok.text.find(':');
    if (colon == std::string::npos) {
      return error(tok.position, "'" + tok.text +
                                     "' is not a check (KIND:MATCH, '@' or '!'); and, or, not "
                                     "combine checks");
    }
    out.key = tok.text.substr(0, colon);
    out.match = tok.text.substr(colon + 1);
    if (out.key == "rule") {
      out.kind = Check::Kind::kRule;
    } else if (out.key == "role") {
      out.kind = Check::Kind::kRole;
    } else if (out.key == "http" || out.key == "https") {
      return error(tok.position, "remote " + out.key + ": checks are not supported");
    } else {
      out.kind = Check::Kind::kGeneric;
    }
    return out;
  }

  std::vector<Token> tokens_;
  std::string ruleName_;
  size_t length_;
  size_t next_ = 0;
};

}  // namespace

Result<Check> parseCheckString(std::string_view text, std::string_view ruleName) {
  auto tokens = tokenize(text);
  if (tokens.empty()) return Check{};  // "" (or only blanks): always
  return Parser(std::move(tokens), ruleName, text.size()).parse();
}

std::string Check::toString() const {
  switch (kind) {
    case Kind::kTrue:
      return "@";
    case Kind::kFalse:
      return "!";
    case Kind::kRule:
    case Kind::kRole:
    case Kind::kGeneric:
      return key + ":" + match;
    case Kind::kNot:
      return "not " + children.front().toString();
    case Kind::kAnd:
    case Kind::kOr: {
      std::string out = "(";
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += kind == Kind::kAnd ? " and " : " or ";
        out += children[i].toString();
      }
      return out + ")";
    }
  }
  return "!";
}

}  // namespace bwfloor::placement::policy
