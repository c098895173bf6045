// json / jsonb as raw text (sleet::json_text) and parsed (tao::json::value).
#include "test_util.hpp"

#include <sleet/types/tao_json.hpp>

using namespace sleet;
using namespace sleet_test;
using wire::format;

TEST(types_json, raw_text)
{
    EXPECT_EQ(from_txt<json_text>("{\"a\": 1}", oid::jsonb).text, "{\"a\": 1}");
    EXPECT_EQ(from_bin<json_text>("[1,2]", oid::json).text, "[1,2]");
    // jsonb_send('{"a":1}'): version byte 1, then the text.
    EXPECT_EQ(from_bin<json_text>(unhex("017b2261223a20317d"), oid::jsonb).text, "{\"a\": 1}");
    EXPECT_EQ(txt(json_text{"{}"}), "{}");
    EXPECT_EQ(hex(bin(json_text{"{}"})), "01 7b 7d");
    auto p = make_params(json_text{"{\"k\":[true]}"});
    EXPECT_EQ(p.oids()[0], 0u); // the server infers json or jsonb from the statement
    EXPECT_EQ(p.formats()[0], format::text);
    EXPECT_EQ(p.value(0), "{\"k\":[true]}");
    auto r = decode_err<json_text>(unhex("027b7d"), oid::jsonb, format::binary, "doc");
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message, "column \"doc\" of type jsonb holds an invalid binary value for sleet::json_text: "
                         "binary jsonb must start with version byte 1");
    r = decode_err<json_text>(std::string_view("1"), oid::int4, format::text, "n");
    EXPECT_EQ(r.message, "column \"n\" of type int4 cannot be read as sleet::json_text");
}

TEST(types_json, tao_value)
{
    auto v = from_bin<tao::json::value>(unhex("017b2261223a20317d"), oid::jsonb);
    EXPECT_EQ(v.at("a").as<int>(), 1);
    auto w = from_txt<tao::json::value>("[1, \"x\", null]", oid::json);
    ASSERT_TRUE(w.is_array());
    EXPECT_EQ(w.get_array().size(), 3u);
    tao::json::value obj = {{"k", "v"}};
    auto p = make_params(obj);
    EXPECT_EQ(p.value(0), "{\"k\":\"v\"}");
    auto r = decode_err<tao::json::value>(std::string_view("{oops"), oid::json, format::text, "doc");
    EXPECT_EQ(r.ec, errc::invalid_value);
    EXPECT_EQ(r.message.rfind("column \"doc\" of type json holds an invalid text value for tao::json::value: invalid JSON: ", 0), 0u)
        << r.message;
}
