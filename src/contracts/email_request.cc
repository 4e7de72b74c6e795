#include "contracts/email_request.h"

#include <nlohmann/json.hpp>

#include "contracts/email_address.h"

namespace inkwell::contracts {
namespace {

using core::ErrorCode;
using Json = nlohmann::json;

core::Result<std::string> StringField(const Json& object, const char* name, bool is_required) {
  const auto found = object.find(name);
  if (found == object.end() || found->is_null()) {
    if (is_required) {
      return core::Fail(ErrorCode::kInvalidArgument, std::string("missing field \"") + name + "\"");
    }
    return std::string();
  }
  if (!found->is_string()) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      std::string("field \"") + name + "\" must be a string");
  }
  return found->get<std::string>();
}

core::Result<std::string> Recipient(const Json& object, const char* name) {
  auto text = StringField(object, name, true);
  if (!text) return tl::unexpected(text.error());
  auto address = EmailAddress::Parse(*text);
  if (!address) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      std::string("field \"") + name + "\": " + address.error().message);
  }
  return address->value();
}

}  // namespace

core::Result<EmailRequest> ParseEmailRequest(std::string_view body) {
  if (body.size() > kMaxEmailRequestBytes) {
    return core::Fail(ErrorCode::kInvalidArgument,
                      "body is " + std::to_string(body.size()) + " bytes, over the limit of " +
                          std::to_string(kMaxEmailRequestBytes));
  }
  const Json object = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return core::Fail(ErrorCode::kInvalidArgument, "body is not valid JSON");
  if (!object.is_object()) {
    return core::Fail(ErrorCode::kInvalidArgument, "body must be a JSON object");
  }
  EmailRequest request;
  if (!object.contains("to") && object.contains("email")) {
    // The original system's form: {"email": address, "message": text}.
    auto to = Recipient(object, "email");
    if (!to) return tl::unexpected(to.error());
    auto message = StringField(object, "message", false);
    if (!message) return tl::unexpected(message.error());
    request.to = std::move(*to);
    request.template_name = "welcome";
    request.data["email"] = request.to;
    if (!message->empty()) request.data["message"] = std::move(*message);
    return request;
  }
  auto to = Recipient(object, "to");
  if (!to) return tl::unexpected(to.error());
  request.to = std::move(*to);
  if (object.contains("template")) {
    auto name = StringField(object, "template", true);
    if (!name) return tl::unexpected(name.error());
    if (name->empty()) return core::Fail(ErrorCode::kInvalidArgument, "field \"template\" is empty");
    request.template_name = std::move(*name);
    if (const auto data = object.find("data"); data != object.end() && !data->is_null()) {
      if (!data->is_object()) {
        return core::Fail(ErrorCode::kInvalidArgument, "field \"data\" must be an object");
      }
      for (const auto& [key, value] : data->items()) {
        if (!value.is_string()) {
          return core::Fail(ErrorCode::kInvalidArgument,
                            "field \"data." + key + "\" must be a string");
        }
        request.data[key] = value.get<std::string>();
      }
    }
    return request;
  }
  auto subject = StringField(object, "subject", true);
  if (!subject) return tl::unexpected(subject.error());
  auto text = StringField(object, "text", true);
  if (!text) return tl::unexpected(text.error());
  auto html = StringField(object, "html", false);
  if (!html) return tl::unexpected(html.error());
  request.subject = std::move(*subject);
  request.text = std::move(*text);
  request.html = std::move(*html);
  return request;
}

std::string EncodeEmailRequest(const EmailRequest& request) {
  Json object = {{"to", request.to}};
  if (request.is_templated()) {
    object["template"] = request.template_name;
    object["data"] = request.data;
  } else {
    object["subject"] = request.subject;
    object["text"] = request.text;
    if (!request.html.empty()) object["html"] = request.html;
  }
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace inkwell::contracts
