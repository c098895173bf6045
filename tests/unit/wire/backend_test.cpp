// Backend framing and parsers. Every sample is a hand-built message (protocol 3.0 §55.7); each
// is decoded field by field, then every truncation of the frame and of the body is fed back to
// check that nothing short of the whole message is accepted. The bodies are copied into exactly
// sized heap buffers so AddressSanitizer catches any over-read.
#include <sleet/wire/backend.hpp>

#include "wire_test_util.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <functional>
#include <memory>

using namespace sleet;
using namespace sleet::wire;
using namespace wire_test;
using status = split_result::status_t;

namespace {

struct sample {
    std::string name;
    char type;
    std::string body;
    std::function<error_code(std::string_view)> parse;
    /// Body prefixes of at least this length are themselves valid messages (npos: none are).
    std::size_t valid_prefix_from = std::string::npos;
    /// Whether a byte appended to the body is still a valid message.
    bool trailing_ok = false;
};

template <class T, class F> std::function<error_code(std::string_view)> parser(F f)
{
    return [f](std::string_view b) {
        T out{};
        return f(b, out);
    };
}

const std::string rowdesc_body = hex("0002") + z("id") + hex("00004000 0001 00000017 0004 ffffffff 0000") + z("name") +
                                 hex("00004000 0002 00000019 ffff ffffffff 0001");
const std::string datarow_body = hex("0003 00000002") + "42" + hex("ffffffff 00000000");
const std::string error_body = z("SERROR") + z("VERROR") + z("C23505") + z("Mduplicate key") + z("DKey (id)=(1) exists.") +
                               z("Huse another id") + z("P12") + z("p3") + z("qSELECT 1") + z("WPL/pgSQL function f()") +
                               z("spublic") + z("tusers") + z("cid") + z("dint4") + z("nusers_pkey") + z("Fnbtinsert.c") +
                               z("L666") + z("R_bt_check_unique") + z("Xunknown field") + hex("00");
const std::string notice_body = z("SNOTICE") + z("VNOTICE") + z("C00000") + z("Mhello") + hex("00");

std::vector<sample> samples()
{
    auto auth = parser<authentication>(parse_authentication);
    auto empty = [](std::string_view b) { return parse_empty(b); };
    auto copy = parser<copy_response>(parse_copy_response);
    return {
        {"AuthenticationOk", 'R', hex("00000000"), auth},
        {"AuthenticationKerberosV5", 'R', hex("00000002"), auth},
        {"AuthenticationCleartextPassword", 'R', hex("00000003"), auth},
        {"AuthenticationMD5Password", 'R', hex("00000005 9a0010ff"), auth},
        {"AuthenticationSCMCredential", 'R', hex("00000006"), auth},
        {"AuthenticationGSS", 'R', hex("00000007"), auth},
        {"AuthenticationGSSContinue", 'R', hex("00000008") + "gssdata", auth, 4, true},
        {"AuthenticationSSPI", 'R', hex("00000009"), auth},
        {"AuthenticationSASL", 'R', hex("0000000a") + z("SCRAM-SHA-256-PLUS") + z("SCRAM-SHA-256") + hex("00"), auth},
        {"AuthenticationSASLContinue", 'R', hex("0000000b") + "r=abc,s=c2FsdA==,i=4096", auth, 4, true},
        {"AuthenticationSASLFinal", 'R', hex("0000000c") + "v=c2ln", auth, 4, true},
        {"ParameterStatus", 'S', z("client_encoding") + z("UTF8"), parser<parameter_status>(parse_parameter_status)},
        {"BackendKeyData", 'K', hex("00003039 87654321"), parser<backend_key_data>(parse_backend_key_data)},
        {"ReadyForQuery(I)", 'Z', "I", parser<ready_for_query>(parse_ready_for_query)},
        {"ReadyForQuery(T)", 'Z', "T", parser<ready_for_query>(parse_ready_for_query)},
        {"ReadyForQuery(E)", 'Z', "E", parser<ready_for_query>(parse_ready_for_query)},
        {"RowDescription", 'T', rowdesc_body, parser<row_description>(parse_row_description)},
        {"DataRow", 'D', datarow_body,
         [](std::string_view b) {
             data_row_view v;
             if (auto ec = parse_data_row(b, v)) return ec;
             std::vector<std::optional<std::string_view>> vals;
             return v.values(vals);
         }},
        {"CommandComplete", 'C', z("INSERT 0 5"), parser<command_complete>(parse_command_complete)},
        {"EmptyQueryResponse", 'I', "", empty},
        {"ErrorResponse", 'E', error_body, parser<server_error_fields>(parse_error_fields)},
        {"NoticeResponse", 'N', notice_body, parser<server_error_fields>(parse_error_fields)},
        {"ParseComplete", '1', "", empty},
        {"BindComplete", '2', "", empty},
        {"CloseComplete", '3', "", empty},
        {"NoData", 'n', "", empty},
        {"PortalSuspended", 's', "", empty},
        {"CopyDone", 'c', "", empty},
        {"ParameterDescription", 't', hex("0002 00000017 00000019"), parser<parameter_description>(parse_parameter_description)},
        {"CopyInResponse", 'G', hex("00 0002 0000 0000"), copy},
        {"CopyOutResponse", 'H', hex("01 0001 0001"), copy},
        {"CopyBothResponse", 'W', hex("00 0000"), copy},
        // CopyData carries raw bytes: any body is valid, only the framing is tested.
        {"CopyData", 'd', std::string("1\tfoo\n"), [](std::string_view) { return error_code{}; }, 0, true},
        {"NotificationResponse", 'A', hex("00001092") + z("chan") + z("payload"), parser<notification>(parse_notification)},
        {"NegotiateProtocolVersion", 'v', hex("00000000 00000002") + z("_pq_.a") + z("_pq_.b"),
         parser<negotiate_protocol_version>(parse_negotiate_protocol_version)},
    };
}

const sample& find_sample(const std::string& name)
{
    static const std::vector<sample> all = samples();
    for (const auto& s : all)
        if (s.name == name) return s;
    throw std::logic_error("no sample " + name);
}

// An exactly sized heap copy: any read past the end is an ASan error.
struct exact_copy {
    explicit exact_copy(std::string_view s) : buf(std::make_unique<char[]>(s.size())), size(s.size())
    {
        std::copy(s.begin(), s.end(), buf.get());
    }
    std::string_view view() const { return {buf.get(), size}; }
    std::unique_ptr<char[]> buf;
    std::size_t size;
};

// Frames `body`, splits it and returns the body view into `storage`.
std::string_view split_body(const sample& s, std::string_view body, std::unique_ptr<exact_copy>& storage)
{
    storage = std::make_unique<exact_copy>(framed(s.type, body));
    const auto r = split_message(storage->view());
    EXPECT_EQ(r.status, status::message) << s.name;
    EXPECT_EQ(r.msg.type, s.type) << s.name;
    EXPECT_EQ(r.consumed, storage->size) << s.name;
    return r.msg.body;
}

} // namespace

// --- every sample: whole, every frame truncation, every body truncation, trailing byte --------

TEST(wire_backend_samples, whole_message_splits_and_parses)
{
    ASSERT_EQ(samples().size(), 35u); // every backend message kind of protocol 3.0 (ReadyForQuery x3)
    for (const auto& s : samples()) {
        std::unique_ptr<exact_copy> storage;
        const auto body = split_body(s, s.body, storage);
        EXPECT_EQ(body, s.body) << s.name;
        EXPECT_FALSE(s.parse(body)) << s.name << ": " << s.parse(body).message();
    }
}

TEST(wire_backend_samples, split_stops_at_message_end)
{
    for (const auto& s : samples()) {
        const std::string two = framed(s.type, s.body) + framed('Z', "I");
        const auto r = split_message(two);
        ASSERT_EQ(r.status, status::message) << s.name;
        EXPECT_EQ(r.consumed, s.body.size() + 5) << s.name;
        EXPECT_EQ(r.msg.body, s.body) << s.name;
        const auto r2 = split_message(std::string_view(two).substr(r.consumed));
        ASSERT_EQ(r2.status, status::message) << s.name;
        EXPECT_EQ(r2.msg.type, 'Z');
        EXPECT_EQ(r2.msg.body, "I");
    }
}

TEST(wire_backend_samples, every_frame_truncation_needs_more)
{
    for (const auto& s : samples()) {
        const std::string full = framed(s.type, s.body);
        for (std::size_t k = 0; k < full.size(); ++k) {
            exact_copy c(std::string_view(full).substr(0, k));
            const auto r = split_message(c.view());
            ASSERT_EQ(r.status, status::need_more) << s.name << " prefix " << k;
            EXPECT_FALSE(r.ec);
            EXPECT_EQ(r.consumed, 0u);
            EXPECT_EQ(r.needed, k < 5 ? 5 - k : full.size() - k) << s.name << " prefix " << k;
        }
    }
}

TEST(wire_backend_samples, every_body_truncation_is_rejected_or_itself_valid)
{
    for (const auto& s : samples()) {
        for (std::size_t k = 0; k < s.body.size(); ++k) {
            std::unique_ptr<exact_copy> storage;
            const auto body = split_body(s, std::string_view(s.body).substr(0, k), storage);
            const auto ec = s.parse(body);
            if (k >= s.valid_prefix_from)
                EXPECT_FALSE(ec) << s.name << " body prefix " << k << ": " << ec.message();
            else
                EXPECT_EQ(ec, ec_of(errc::truncated_message)) << s.name << " body prefix " << k << ": " << ec.message();
        }
    }
}

TEST(wire_backend_samples, trailing_byte_is_a_protocol_error_for_fixed_layouts)
{
    for (const auto& s : samples()) {
        std::unique_ptr<exact_copy> storage;
        const auto body = split_body(s, s.body + "x", storage);
        const auto ec = s.parse(body);
        if (s.trailing_ok)
            EXPECT_FALSE(ec) << s.name;
        else
            EXPECT_EQ(ec, ec_of(errc::protocol_error)) << s.name << ": " << ec.message();
    }
}

// --- framing limits ----------------------------------------------------------------------------

TEST(wire_backend_split, length_under_4_is_invalid)
{
    for (std::uint32_t len : {0u, 1u, 3u, 0xffffffffu, 0x80000000u}) {
        const auto r = split_message(std::string(1, 'D') + be32(len));
        EXPECT_EQ(r.status, status::error) << len;
        EXPECT_EQ(r.ec, ec_of(errc::invalid_message_length)) << len;
    }
}

TEST(wire_backend_split, length_over_cap_is_refused_from_the_header_alone)
{
    // Default cap 1 GiB: a declared 2^31-1 is refused with only 5 bytes buffered.
    auto r = split_message(std::string(1, 'D') + be32(0x7fffffff));
    EXPECT_EQ(r.status, status::error);
    EXPECT_EQ(r.ec, ec_of(errc::message_too_large));
    r = split_message(std::string(1, 'D') + be32((1u << 30) + 1));
    EXPECT_EQ(r.ec, ec_of(errc::message_too_large));
    r = split_message(std::string(1, 'D') + be32(1u << 30));
    EXPECT_EQ(r.status, status::need_more);
    EXPECT_EQ(r.needed, (std::size_t{1} << 30) - 4);

    // Configurable cap: the declared length (which counts itself) is compared with it.
    r = split_message(std::string(1, 'D') + be32(1001), 1000);
    EXPECT_EQ(r.ec, ec_of(errc::message_too_large));
    r = split_message(std::string(1, 'D') + be32(1000), 1000);
    EXPECT_EQ(r.status, status::need_more);
    EXPECT_EQ(r.needed, 996u);
}

TEST(wire_backend_split, length_4_is_an_empty_body)
{
    const auto r = split_message(hex("31 00000004"));
    ASSERT_EQ(r.status, status::message);
    EXPECT_EQ(r.msg.type, '1');
    EXPECT_TRUE(r.msg.body.empty());
    EXPECT_EQ(r.consumed, 5u);
}

// --- each message kind, field by field ----------------------------------------------------------

TEST(wire_backend_parse, authentication_simple_kinds)
{
    const std::pair<const char*, auth_kind> cases[] = {
        {"AuthenticationOk", auth_kind::ok},
        {"AuthenticationKerberosV5", auth_kind::kerberos_v5},
        {"AuthenticationCleartextPassword", auth_kind::cleartext_password},
        {"AuthenticationSCMCredential", auth_kind::scm_credential},
        {"AuthenticationGSS", auth_kind::gss},
        {"AuthenticationSSPI", auth_kind::sspi},
    };
    for (const auto& [name, kind] : cases) {
        authentication a;
        ASSERT_FALSE(parse_authentication(find_sample(name).body, a)) << name;
        EXPECT_EQ(a.kind, kind) << name;
        EXPECT_TRUE(a.md5_salt.empty());
        EXPECT_TRUE(a.mechanisms.empty());
        EXPECT_TRUE(a.data.empty());
    }
}

TEST(wire_backend_parse, authentication_md5)
{
    authentication a;
    ASSERT_FALSE(parse_authentication(find_sample("AuthenticationMD5Password").body, a));
    EXPECT_EQ(a.kind, auth_kind::md5_password);
    EXPECT_EQ(to_hex(a.md5_salt), "9a0010ff");
}

TEST(wire_backend_parse, authentication_sasl_mechanisms)
{
    authentication a;
    ASSERT_FALSE(parse_authentication(find_sample("AuthenticationSASL").body, a));
    EXPECT_EQ(a.kind, auth_kind::sasl);
    ASSERT_EQ(a.mechanisms.size(), 2u);
    EXPECT_EQ(a.mechanisms[0], "SCRAM-SHA-256-PLUS");
    EXPECT_EQ(a.mechanisms[1], "SCRAM-SHA-256");
}

TEST(wire_backend_parse, authentication_data_kinds)
{
    const std::tuple<const char*, auth_kind, const char*> cases[] = {
        {"AuthenticationGSSContinue", auth_kind::gss_continue, "gssdata"},
        {"AuthenticationSASLContinue", auth_kind::sasl_continue, "r=abc,s=c2FsdA==,i=4096"},
        {"AuthenticationSASLFinal", auth_kind::sasl_final, "v=c2ln"},
    };
    for (const auto& [name, kind, data] : cases) {
        const auto& body = find_sample(name).body;
        authentication a;
        ASSERT_FALSE(parse_authentication(body, a)) << name;
        EXPECT_EQ(a.kind, kind);
        EXPECT_EQ(a.data, data);
        // A truncated body is a shorter, still valid, data field (the length is in the frame).
        for (std::size_t k = 4; k < body.size(); ++k) {
            ASSERT_FALSE(parse_authentication(std::string_view(body).substr(0, k), a));
            EXPECT_EQ(a.data, std::string_view(data).substr(0, k - 4));
        }
    }
}

TEST(wire_backend_parse, authentication_unknown_kind_is_kept_for_the_connection)
{
    authentication a;
    const std::string body = hex("00000063") + "xyz";
    ASSERT_FALSE(parse_authentication(body, a));
    EXPECT_EQ(static_cast<std::int32_t>(a.kind), 99);
    EXPECT_EQ(a.data, "xyz");
}

TEST(wire_backend_parse, parameter_status)
{
    parameter_status p;
    ASSERT_FALSE(parse_parameter_status(find_sample("ParameterStatus").body, p));
    EXPECT_EQ(p.name, "client_encoding");
    EXPECT_EQ(p.value, "UTF8");
}

TEST(wire_backend_parse, backend_key_data)
{
    backend_key_data k;
    ASSERT_FALSE(parse_backend_key_data(find_sample("BackendKeyData").body, k));
    EXPECT_EQ(k.process_id, 12345);
    EXPECT_EQ(k.secret_key, static_cast<std::int32_t>(0x87654321u));
}

TEST(wire_backend_parse, ready_for_query)
{
    ready_for_query r;
    ASSERT_FALSE(parse_ready_for_query("I", r));
    EXPECT_EQ(r.status, transaction_status::idle);
    ASSERT_FALSE(parse_ready_for_query("T", r));
    EXPECT_EQ(r.status, transaction_status::in_transaction);
    ASSERT_FALSE(parse_ready_for_query("E", r));
    EXPECT_EQ(r.status, transaction_status::failed);
    EXPECT_EQ(parse_ready_for_query("X", r), ec_of(errc::protocol_error));
}

TEST(wire_backend_parse, row_description)
{
    row_description rd;
    ASSERT_FALSE(parse_row_description(find_sample("RowDescription").body, rd));
    ASSERT_EQ(rd.fields.size(), 2u);
    const auto& a = rd.fields[0];
    EXPECT_EQ(a.name, "id");
    EXPECT_EQ(a.table_oid, 16384u);
    EXPECT_EQ(a.column_attribute, 1);
    EXPECT_EQ(a.type_oid, oid::int4);
    EXPECT_EQ(a.type_size, 4);
    EXPECT_EQ(a.type_modifier, -1);
    EXPECT_EQ(a.format, 0);
    const auto& b = rd.fields[1];
    EXPECT_EQ(b.name, "name");
    EXPECT_EQ(b.table_oid, 16384u);
    EXPECT_EQ(b.column_attribute, 2);
    EXPECT_EQ(b.type_oid, oid::text);
    EXPECT_EQ(b.type_size, -1);
    EXPECT_EQ(b.type_modifier, -1);
    EXPECT_EQ(b.format, 1);
}

TEST(wire_backend_parse, row_description_zero_fields)
{
    row_description rd;
    rd.fields.resize(3);
    ASSERT_FALSE(parse_row_description(hex("0000"), rd));
    EXPECT_TRUE(rd.fields.empty());
}

TEST(wire_backend_parse, data_row_values)
{
    data_row_view v;
    ASSERT_FALSE(parse_data_row(find_sample("DataRow").body, v));
    EXPECT_EQ(v.size(), 3);
    std::vector<std::optional<std::string_view>> vals;
    ASSERT_FALSE(v.values(vals));
    ASSERT_EQ(vals.size(), 3u);
    EXPECT_EQ(vals[0], std::optional<std::string_view>("42"));
    EXPECT_EQ(vals[1], std::nullopt);
    ASSERT_TRUE(vals[2].has_value());
    EXPECT_EQ(*vals[2], "");
}

TEST(wire_backend_parse, data_row_default_view_is_empty)
{
    data_row_view v;
    std::vector<std::optional<std::string_view>> vals(2);
    ASSERT_FALSE(v.values(vals));
    EXPECT_TRUE(vals.empty());
}

TEST(wire_backend_parse, command_complete)
{
    command_complete c;
    ASSERT_FALSE(parse_command_complete(find_sample("CommandComplete").body, c));
    EXPECT_EQ(c.tag, "INSERT 0 5");
    EXPECT_EQ(c.rows(), 5u);
}

TEST(wire_backend_parse, command_complete_rows)
{
    const std::pair<const char*, std::optional<std::uint64_t>> cases[] = {
        {"INSERT 0 5", 5},
        {"INSERT 0 0", 0},
        {"UPDATE 12", 12},
        {"DELETE 3", 3},
        {"SELECT 18446744073709551615", 18446744073709551615u},
        {"SELECT 18446744073709551616", std::nullopt}, // overflow
        {"MOVE 2", 2},
        {"FETCH 7", 7},
        {"COPY 100", 100},
        {"MERGE 4", 4},
        {"INSERT 5", std::nullopt}, // not the "INSERT oid rows" form
        {"INSERT 0 x", std::nullopt},
        {"UPDATE", std::nullopt},
        {"UPDATE -1", std::nullopt},
        {"UPDATE 1 2", std::nullopt},
        {"UPDATE 1 ", std::nullopt},
        {"COPY", std::nullopt}, // PostgreSQL < 8.2 sent no count
        {"CREATE TABLE", std::nullopt},
        {"BEGIN", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& [tag, rows] : cases) {
        command_complete c{tag};
        EXPECT_EQ(c.rows(), rows) << tag;
    }
}

TEST(wire_backend_parse, empty_messages)
{
    for (const char* name : {"EmptyQueryResponse", "ParseComplete", "BindComplete", "CloseComplete", "NoData",
                             "PortalSuspended", "CopyDone"}) {
        const auto& s = find_sample(name);
        EXPECT_FALSE(parse_empty(s.body)) << name;
    }
    EXPECT_EQ(find_sample("EmptyQueryResponse").type, msg::empty_query_response);
    EXPECT_EQ(find_sample("PortalSuspended").type, msg::portal_suspended);
    EXPECT_EQ(parse_empty(std::string_view("\0", 1)), ec_of(errc::protocol_error));
}

TEST(wire_backend_parse, error_response_all_fields)
{
    server_error_fields f;
    ASSERT_FALSE(parse_error_fields(find_sample("ErrorResponse").body, f));
    EXPECT_EQ(f.severity, "ERROR");
    EXPECT_EQ(f.severity_nonlocalized, "ERROR");
    EXPECT_EQ(f.sqlstate, "23505");
    EXPECT_EQ(f.message, "duplicate key");
    EXPECT_EQ(f.detail, "Key (id)=(1) exists.");
    EXPECT_EQ(f.hint, "use another id");
    EXPECT_EQ(f.position, "12");
    EXPECT_EQ(f.internal_position, "3");
    EXPECT_EQ(f.internal_query, "SELECT 1");
    EXPECT_EQ(f.where, "PL/pgSQL function f()");
    EXPECT_EQ(f.schema_name, "public");
    EXPECT_EQ(f.table_name, "users");
    EXPECT_EQ(f.column_name, "id");
    EXPECT_EQ(f.data_type_name, "int4");
    EXPECT_EQ(f.constraint_name, "users_pkey");
    EXPECT_EQ(f.file, "nbtinsert.c");
    EXPECT_EQ(f.line, "666");
    EXPECT_EQ(f.routine, "_bt_check_unique");
}

TEST(wire_backend_parse, notice_response)
{
    server_error_fields f;
    ASSERT_FALSE(parse_error_fields(find_sample("NoticeResponse").body, f));
    EXPECT_EQ(f.severity, "NOTICE");
    EXPECT_EQ(f.severity_nonlocalized, "NOTICE");
    EXPECT_EQ(f.sqlstate, "00000");
    EXPECT_EQ(f.message, "hello");
    EXPECT_TRUE(f.detail.empty());
    EXPECT_TRUE(f.routine.empty());
}

TEST(wire_backend_parse, error_response_missing_terminators)
{
    server_error_fields f;
    f.message = "untouched";
    EXPECT_EQ(parse_error_fields("", f), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_error_fields("S", f), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_error_fields("SERROR", f), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_error_fields(z("SERROR"), f), ec_of(errc::truncated_message)); // final NUL missing
    EXPECT_EQ(f.message, "untouched"); // assigned only on success
    EXPECT_FALSE(parse_error_fields(hex("00"), f));
    EXPECT_TRUE(f.message.empty());
}

TEST(wire_backend_parse, parameter_description)
{
    parameter_description p;
    ASSERT_FALSE(parse_parameter_description(find_sample("ParameterDescription").body, p));
    EXPECT_EQ(p.types, (std::vector<oid_t>{oid::int4, oid::text}));
}

TEST(wire_backend_parse, parameter_description_count_is_unsigned)
{
    // PostgreSQL allows 65535 parameters and writes the count in 16 bits.
    std::string body = be16(40000);
    for (int i = 0; i < 40000; ++i) body += be32(23);
    parameter_description p;
    ASSERT_FALSE(parse_parameter_description(body, p));
    EXPECT_EQ(p.types.size(), 40000u);
    EXPECT_EQ(p.types.back(), oid::int4);
}

TEST(wire_backend_parse, copy_responses)
{
    copy_response c;
    ASSERT_FALSE(parse_copy_response(find_sample("CopyInResponse").body, c));
    EXPECT_EQ(c.overall_format, 0);
    EXPECT_EQ(c.column_formats, (std::vector<std::int16_t>{0, 0}));
    ASSERT_FALSE(parse_copy_response(find_sample("CopyOutResponse").body, c));
    EXPECT_EQ(c.overall_format, 1);
    EXPECT_EQ(c.column_formats, (std::vector<std::int16_t>{1}));
    ASSERT_FALSE(parse_copy_response(find_sample("CopyBothResponse").body, c));
    EXPECT_EQ(c.overall_format, 0);
    EXPECT_TRUE(c.column_formats.empty());
    EXPECT_EQ(parse_copy_response(hex("02 0000"), c), ec_of(errc::protocol_error));
    EXPECT_EQ(parse_copy_response(hex("00 0001 0002"), c), ec_of(errc::protocol_error));
}

TEST(wire_backend_parse, notification)
{
    notification n;
    ASSERT_FALSE(parse_notification(find_sample("NotificationResponse").body, n));
    EXPECT_EQ(n.process_id, 4242);
    EXPECT_EQ(n.channel, "chan");
    EXPECT_EQ(n.payload, "payload");
}

TEST(wire_backend_parse, negotiate_protocol_version)
{
    negotiate_protocol_version v;
    ASSERT_FALSE(parse_negotiate_protocol_version(find_sample("NegotiateProtocolVersion").body, v));
    EXPECT_EQ(v.newest_minor, 0);
    ASSERT_EQ(v.unrecognized_options.size(), 2u);
    EXPECT_EQ(v.unrecognized_options[0], "_pq_.a");
    EXPECT_EQ(v.unrecognized_options[1], "_pq_.b");
}

// --- hostile lengths and counts -----------------------------------------------------------------

TEST(wire_backend_hostile, data_row_negative_field_length)
{
    data_row_view v;
    EXPECT_EQ(parse_data_row(hex("0001 fffffffe"), v), ec_of(errc::invalid_field_length));
    EXPECT_EQ(parse_data_row(hex("0001 80000000"), v), ec_of(errc::invalid_field_length));
    EXPECT_EQ(parse_data_row(hex("0002 ffffffff ffffff00"), v), ec_of(errc::invalid_field_length));
}

TEST(wire_backend_hostile, data_row_length_past_end)
{
    data_row_view v;
    EXPECT_EQ(parse_data_row(hex("0001 00000003 6162"), v), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_data_row(hex("0001 7fffffff 6162"), v), ec_of(errc::truncated_message));
}

TEST(wire_backend_hostile, data_row_bad_counts)
{
    data_row_view v;
    EXPECT_EQ(parse_data_row(hex("7fff 00000000"), v), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_data_row(hex("ffff"), v), ec_of(errc::protocol_error));
    EXPECT_EQ(parse_data_row(hex("00"), v), ec_of(errc::truncated_message));
}

TEST(wire_backend_hostile, huge_counts_with_short_bodies)
{
    row_description rd;
    EXPECT_EQ(parse_row_description(hex("7fff") + z("a"), rd), ec_of(errc::truncated_message));
    EXPECT_EQ(rd.fields.capacity(), 0u); // nothing reserved for the declared count
    EXPECT_EQ(parse_row_description(hex("8000"), rd), ec_of(errc::protocol_error));
    parameter_description pd;
    EXPECT_EQ(parse_parameter_description(hex("ffff 00000017"), pd), ec_of(errc::truncated_message));
    EXPECT_EQ(pd.types.capacity(), 0u);
    copy_response cr;
    EXPECT_EQ(parse_copy_response(hex("00 7fff 0000"), cr), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_copy_response(hex("00 ffff"), cr), ec_of(errc::protocol_error));
    negotiate_protocol_version nv;
    EXPECT_EQ(parse_negotiate_protocol_version(hex("00000000 7fffffff 00"), nv), ec_of(errc::truncated_message));
    EXPECT_EQ(nv.unrecognized_options.capacity(), 0u);
    EXPECT_EQ(parse_negotiate_protocol_version(hex("00000000 ffffffff"), nv), ec_of(errc::protocol_error));
}

TEST(wire_backend_hostile, cstring_without_nul)
{
    parameter_status p;
    EXPECT_EQ(parse_parameter_status("client_encoding", p), ec_of(errc::truncated_message));
    EXPECT_EQ(parse_parameter_status(z("client_encoding") + "UTF8", p), ec_of(errc::truncated_message));
    authentication a;
    EXPECT_EQ(parse_authentication(hex("0000000a") + "SCRAM-SHA-256", a), ec_of(errc::truncated_message));
    notification n;
    EXPECT_EQ(parse_notification(hex("00000001") + z("chan") + "payload", n), ec_of(errc::truncated_message));
}
