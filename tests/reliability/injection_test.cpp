// Reliability scenario 14 of issue 7: injection. Hostile values go through the ORM builders and
// the `sql` fragment API into a real table, come back verbatim, and never appear in the SQL text
// (checked on every statement through the database's logger hook).
#include "reliability.hpp"

#include <sleet/orm.hpp>

#include <random>
#include <vector>

namespace s14 {
namespace pg = sleet::pg;
template <template <class> class C>
struct notes_columns {
    C<pg::serial<"id", pg::primary_key>> id{};
    C<pg::text<"body", pg::not_null>> body{};
    C<pg::text<"note">> note{};
};
using notes_t = sleet::table<"s14_notes", notes_columns>;
inline constexpr notes_t notes{};
} // namespace s14

namespace sleet::test {
namespace {

using s14::notes;

/// Hand-picked hostile values plus generated ones. Every value is valid UTF-8 (the server's
/// encoding would refuse anything else) and has no NUL (tested separately).
std::vector<std::string> hostile_values()
{
    std::vector<std::string> v = {
        "'", "''", "\"", "'; drop table s14_notes; --", "\" or 1=1 --", "x' or '1'='1", "-- comment", "--", "/* c */",
        "/*", "*/ select 1; /*", ";", "$1", "$2::text", "$1$2", "$$", "$$ dollar $$", "$$'; drop table s14_notes; $$",
        "$tag$ x $tag$", "$a$'$a$", "$_$", "\\", "\\\\", "\\'", "\\x41\\", "E'\\\\'", "E'\\x27'", "\\0", "\n;\r\t",
        "%_like_%", "s14_notes\".\"id\" = 0 or 1=1 --", "excluded.body", "{}", "{0}", "?",
        // Unicode confusables: quotes, semicolons, dollars and dashes that are not ASCII.
        "\xca\xbc; drop table s14_notes; --",  // U+02BC modifier letter apostrophe
        "\xef\xbc\x87 or 1=1",                 // U+FF07 fullwidth apostrophe
        "\xe2\x80\x98\xe2\x80\x99\xe2\x80\x9c\xe2\x80\x9d",  // curly quotes
        "\xef\xbc\x9b drop",                   // U+FF1B fullwidth semicolon
        "\xef\xbc\x84" "1",                    // U+FF04 fullwidth dollar
        "\xe2\x80\x94\xe2\x80\x94 em dashes",   // U+2014
        "\xe2\x80\x8b zero width space", "\xe2\x80\xae right-to-left override", "\xe2\x80\xa8 line separator",
        "\xf0\x9f\x92\xa3 bomb", "\xc3\xa9\xc3\xa8 accents",
    };
    // Very long strings: 100 kB of quotes, 1 MiB of dollar quotes and backslashes.
    v.push_back(std::string(100'000, '\''));
    std::string big;
    while (big.size() < (1u << 20)) big += "$$'\\--$x$";
    v.push_back(big);
    // Generated: tokens of the hostile alphabet, in random order (fixed seed).
    const std::vector<std::string> tokens = {"'", "\"", "$", "$$", "$t$", "\\", ";", "--", "/*", "*/", "%", "_", "(",
                                             ")", "{", "}", "\n", " ", "a", "Z", "0", "1", "\xca\xbc",
                                             "\xef\xbc\x87", "\xe2\x80\x8b", "\xc3\xa9"};
    std::mt19937 rng(14);
    std::uniform_int_distribution<std::size_t> len(1, 24), pick(0, tokens.size() - 1);
    for (int i = 0; i < 200; ++i) {
        std::string s;
        for (std::size_t n = len(rng); n; --n) s += tokens[pick(rng)];
        v.push_back(s);
    }
    return v;
}

/// A marker no SQL text of sleet contains: values carrying it show a splice at once.
const std::string marker = "\xe2\x9f\xa6s14\xe2\x9f\xa7";  // ⟦s14⟧

} // namespace

// Scenario 14: every hostile value (quotes, `--`, `$1`, dollar quotes `$$` / `$tag$`, backslashes,
// Unicode confusables, 100 kB and 1 MiB strings, 200 generated mixes) is
//   - inserted with the builder (`insert(...).values({.body = v, .note = marker + v}).returning(id)`),
//   - read back with the builder by id and found again with `eq(body, v)`,
//   - found and echoed through `sql<"...">` fragments (in the where clause and the select list),
//   - updated with the builder (`set(note = ...)`) and read back,
// and every read returns the value byte for byte; no statement's SQL text (the logger hook sees
// each one) contains the marker, nor the value itself when it is longer than 3 bytes (shorter
// ones such as "'" or "--" may occur in SQL text by coincidence). A value with a NUL byte is
// refused on the client, before anything is sent: the user sees errc::nul_in_text_parameter,
// "a text parameter contains a NUL byte at offset 1; PostgreSQL text cannot hold NUL (send it as
// bytea)", and the table is unchanged.
TEST(reliability, s14_hostile_values_round_trip_verbatim_through_builder_and_sql_fragments_never_in_sql_text)
{
    const auto values = hostile_values();
    std::vector<std::string> logged;
    int wrong = 0, spliced = 0;
    std::int64_t rows_at_end = -1;
    run([&]() -> asio::awaitable<void> {
        auto c = co_await connect_super();
        co_await c.async_simple_query(
            "drop table if exists s14_notes; create table s14_notes (id serial primary key, body text not null, note text)");
        database db(c);
        db.set_logger([&](const query_log& l) { logged.emplace_back(l.sql); });

        for (const auto& v : values) {
            const std::string marked = marker + v;
            logged.clear();
            auto ins = db.insert(notes).values({.body = v, .note = marked}).returning(notes.id);
            auto made = co_await ins();
            CO_ASSERT_EQ(made.size(), 1u);
            const std::int32_t id = made[0].get<"id">();

            auto by_id = co_await db.select(notes.body, notes.note).from(notes).where(eq(notes.id, id));
            CO_ASSERT_EQ(by_id.size(), 1u);
            if (by_id[0].get<"body">() != v || by_id[0].get<"note">() != std::optional<std::string>(marked)) ++wrong;

            auto by_value = co_await db.select(notes.id).from(notes).where(and_(eq(notes.body, v), eq(notes.id, id)));
            if (by_value.size() != 1u) ++wrong;

            auto frag = co_await db.select(notes.id, named<"echo">(sql<"{} || ''", std::string>(v)))
                            .from(notes)
                            .where(sql<"{} = {} and {} = {}">(notes.body, v, notes.id, id));
            if (frag.size() != 1u || frag[0].get<"echo">() != v) ++wrong;

            const std::string updated = marked + "!";
            auto upd = db.update(notes).set(notes.note = updated).where(eq(notes.body, v));
            std::uint64_t changed = co_await upd();
            if (changed < 1u) ++wrong;
            auto again = co_await db.select(notes.note).from(notes).where(eq(notes.id, id));
            if (again.size() != 1u || again[0].get<"note">() != std::optional<std::string>(updated)) ++wrong;

            // The statements' text: 6 statements, none with the marker or the value.
            if (logged.size() != 6u) ++wrong;
            for (const auto& s : logged) {
                if (s.find(marker) != std::string::npos) {
                    ++spliced;
                    ADD_FAILURE() << "marked value in SQL text: " << s.substr(0, 200);
                }
                if (v.size() > 3 && s.find(v) != std::string::npos) {
                    ++spliced;
                    ADD_FAILURE() << "value [" << v.substr(0, 80) << "] in SQL text: " << s.substr(0, 200);
                }
            }
        }

        // NUL: refused on the client, through the builder and through a fragment.
        const std::string with_nul("a\0b", 3);
        logged.clear();
        for (int path = 0; path < 2; ++path) {
            try {
                if (path == 0) {
                    auto q = db.insert(notes).values({.body = with_nul});
                    co_await q();
                } else {
                    auto q = db.select(notes.id).from(notes).where(sql<"{} = {}">(notes.body, with_nul));
                    co_await q();  // called: the default token throws error_with_diagnostics
                }
                ADD_FAILURE() << "a NUL byte was accepted (path " << path << ")";
            } catch (const error_with_diagnostics& e) {
                EXPECT_EQ(e.code(), make_error_code(errc::nul_in_text_parameter));
                EXPECT_EQ(e.get_diagnostics().client_message(),
                          "a text parameter contains a NUL byte at offset 1; PostgreSQL text cannot hold NUL (send it as bytea)");
            }
        }
        EXPECT_TRUE(logged.empty()) << "nothing is sent for a value the client refuses";
        std::int64_t n = co_await db.count(notes);
        rows_at_end = n;
        co_await c.async_simple_query("drop table s14_notes");
    });
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(spliced, 0);
    EXPECT_EQ(rows_at_end, static_cast<std::int64_t>(values.size())) << "the table holds exactly the values inserted";
    std::printf("[s14] %zu hostile values, %zu statements checked: %d wrong round trips, %d spliced into SQL text\n",
                values.size(), values.size() * 6, wrong, spliced);
}

} // namespace sleet::test
