#include "db/sql_connection.h"

#include <charconv>
#include <stdexcept>

namespace inkwell::db {

std::int64_t SqlRow::Int(std::size_t column) const {
  const std::optional<std::string>& value = columns.at(column);
  if (!value) return 0;
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), number);
  if (error != std::errc() || end != value->data() + value->size()) {
    throw std::logic_error("column " + std::to_string(column) + " is not an integer: '" +
                           value->substr(0, 40) + "'");
  }
  return number;
}

std::string SqlRow::Text(std::size_t column) const {
  const std::optional<std::string>& value = columns.at(column);
  return value ? *value : std::string();
}

}  // namespace inkwell::db
