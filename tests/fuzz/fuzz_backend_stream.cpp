// libFuzzer target: the backend message stream decoder.
//
// The input is a byte stream as a server would send it. It is split with wire::split_message,
// every message is decoded with the parser for its type, and the framing invariants are checked
// (a message never extends past the buffer; any strict prefix of a message needs more bytes).
// Input byte 0 picks the message size cap (small caps exercise message_too_large).
#include <sleet/wire/auth.hpp>
#include <sleet/wire/backend.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace {

using namespace sleet::wire;

void check(bool ok)
{
    if (!ok) __builtin_trap();
}

void decode(const raw_message& m)
{
    switch (m.type) {
    case msg::authentication: {
        authentication a;
        (void)parse_authentication(m.body, a);
        break;
    }
    case msg::parameter_status: {
        parameter_status p;
        (void)parse_parameter_status(m.body, p);
        break;
    }
    case msg::backend_key_data: {
        backend_key_data k;
        (void)parse_backend_key_data(m.body, k);
        break;
    }
    case msg::ready_for_query: {
        ready_for_query z;
        (void)parse_ready_for_query(m.body, z);
        break;
    }
    case msg::command_complete: {
        command_complete c;
        if (!parse_command_complete(m.body, c)) (void)c.rows();
        break;
    }
    case msg::row_description: {
        row_description rd;
        if (!parse_row_description(m.body, rd)) check(rd.fields.size() <= m.body.size());
        break;
    }
    case msg::data_row: {
        data_row_view row;
        if (!parse_data_row(m.body, row)) {
            std::vector<std::optional<std::string_view>> values;
            // A row that parsed must split (backend.hpp's promise).
            check(!row.values(values));
            for (const auto& v : values) {
                if (v) check(v->data() >= m.body.data() && v->data() + v->size() <= m.body.data() + m.body.size());
            }
        }
        break;
    }
    case msg::parameter_description: {
        parameter_description pd;
        (void)parse_parameter_description(m.body, pd);
        break;
    }
    case msg::notification_response: {
        notification n;
        (void)parse_notification(m.body, n);
        break;
    }
    case msg::copy_in_response:
    case msg::copy_out_response:
    case msg::copy_both_response: {
        copy_response cr;
        (void)parse_copy_response(m.body, cr);
        break;
    }
    case msg::negotiate_protocol_version: {
        negotiate_protocol_version v;
        (void)parse_negotiate_protocol_version(m.body, v);
        break;
    }
    case msg::error_response:
    case msg::notice_response: {
        sleet::server_error_fields f;
        if (!parse_error_fields(m.body, f)) (void)f.to_string();
        break;
    }
    case msg::parse_complete:
    case msg::bind_complete:
    case msg::close_complete:
    case msg::no_data:
    case msg::empty_query_response:
    case msg::portal_suspended:
    case msg::copy_done: (void)parse_empty(m.body); break;
    default: break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) return 0;
    const std::size_t caps[] = {default_max_message_size, 64, 1024, 5};
    const std::size_t cap = caps[data[0] % 4];
    std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    for (;;) {
        auto r = split_message(rest, cap);
        if (r.status != split_result::status_t::message) {
            if (r.status == split_result::status_t::need_more) check(r.needed > 0);
            break;
        }
        check(r.consumed >= 5 && r.consumed <= rest.size());
        check(r.msg.body.data() == rest.data() + 5 && r.msg.body.size() == r.consumed - 5);
        // A stream delivers bytes in pieces: every strict prefix must ask for more.
        auto p = split_message(rest.substr(0, r.consumed - 1), cap);
        check(p.status == split_result::status_t::need_more);
        decode(r.msg);
        rest.remove_prefix(r.consumed);
    }
    return 0;
}
