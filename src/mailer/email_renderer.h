#pragma once

#include <string>

#include "contracts/email_request.h"
#include "core/error.h"
#include "mail/mime_message.h"
#include "templating/template_set.h"

namespace inkwell::mailer {

// Turns an e-mail request into the message to send. `templates` is the e-mail folder alone
// (templates/email): a templated request uses <template>.subject, .txt and (optional) .html from
// it, with the request's data and "to" as values (the mailer loads only that folder: it never
// renders a web page). The Message-ID is derived from message_id alone, so a resend of the same
// request carries the same identity. Pure: no I/O.
// kInvalidArgument for an unknown template or an empty rendered subject or text.
core::Result<mail::MimeMessage> RenderEmail(const contracts::EmailRequest& request,
                                            const templating::TemplateSet& templates,
                                            const std::string& from, const std::string& message_id);

// "<id>@inkwell" with id reduced to characters legal in a Message-ID; a random id when
// message_id is empty.
std::string MessageIdFor(const std::string& message_id);

}  // namespace inkwell::mailer
