#include "update/minisign.h"
#include "source_dir.h"

#include <catch.hpp>
#include <cstdlib>
#include <fstream>

#include "outpost/platform/system.h"
#include "test_files.h"
#include "update/minisign_test_signer.h"
#include "update/trusted_keys.h"

namespace outpost::update {
namespace {

using testing::Base64Decode;
using testing::Base64Encode;
using testing::LoadTestKey;
using testing::SignMinisign;
using testing::UpdateFixture;

constexpr std::string_view kComment =
    "outpost-feed schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00Z";

PublicKey Key(std::string_view pub_file) {
  Result<PublicKey> k = ParsePublicKey(UpdateFixture(pub_file));
  REQUIRE(k.ok());
  return *k;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// The signature file with the 74-byte signature line edited by `edit`.
template <typename Edit>
std::string EditSignatureLine(const std::string& minisig, Edit edit) {
  std::vector<std::string> lines = Lines(minisig);
  std::string bin = Base64Decode(lines[1]);
  edit(bin);
  lines[1] = Base64Encode(bin);
  return Join(lines);
}

std::string RejectionCode(std::string_view message, std::string_view sig,
                          const std::vector<PublicKey>& keys) {
  Checked<VerifiedSignature> v = VerifyMinisign(message, sig, keys);
  if (v.ok()) return "ok";
  CHECK_FALSE(v.rejection().message.empty());
  return v.rejection().code;
}

TEST_CASE("a signature made by the minisign tool verifies", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const PublicKey key = Key("test.pub");
  Checked<VerifiedSignature> v = VerifyMinisign(feed, UpdateFixture("stable.json.minisig"), {key});
  REQUIRE(v.ok());
  CHECK(v->trusted_comment == kComment);
  CHECK(v->key_id == key.key_id);
}

TEST_CASE("the test signer writes byte for byte what minisign writes", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  CHECK(SignMinisign(LoadTestKey("test.key"), feed, kComment,
                     "outpost TEST fixture signature (test.key)") ==
        UpdateFixture("stable.json.minisig"));
  CHECK(SignMinisign(LoadTestKey("test2.key"), feed, kComment,
                     "outpost TEST fixture signature (test2.key)") ==
        UpdateFixture("stable.json.test2.minisig"));
  CHECK(SignMinisign(LoadTestKey("test.key"), feed, kComment,
                     "outpost TEST fixture signature (test.key, legacy Ed)",
                     /*legacy=*/true) == UpdateFixture("stable.json.legacy.minisig"));
}

TEST_CASE("minisign -V accepts a signature made by the test signer", "[update][minisign]") {
  if (platform::OsName() != "linux" || std::system("minisign -v >/dev/null 2>&1") != 0) {
    WARN("skipped: the minisign tool is not installed here");
    return;
  }
  testing::TempDir dir;
  const std::string feed = "{\"any\": \"content the fixtures do not have\"}\n";
  const auto path = dir.Write("feed.json", feed);
  dir.Write("feed.json.minisig", SignMinisign(LoadTestKey("test.key"), feed, kComment));
  const std::string pub = std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/update/test.pub";
  const std::string verify =
      "minisign -Vq -H -p '" + pub + "' -m '" + path.string() + "' >/dev/null 2>&1";
  CHECK(std::system(verify.c_str()) == 0);
  dir.Write("feed.json", feed + " ");  // and refuses it over other bytes
  CHECK(std::system(verify.c_str()) != 0);
}

TEST_CASE("public keys parse from the base64 line or the whole .pub file", "[update][minisign]") {
  const std::string file = UpdateFixture("test.pub");
  const std::vector<std::string> lines = Lines(file);
  REQUIRE(lines.size() == 2);
  Result<PublicKey> from_file = ParsePublicKey(file);
  Result<PublicKey> from_line = ParsePublicKey(lines[1]);
  Result<PublicKey> crlf = ParsePublicKey(lines[0] + "\r\n" + lines[1] + "\r\n");
  Result<PublicKey> blanks = ParsePublicKey("  " + lines[1] + "\n");
  REQUIRE(from_file.ok());
  REQUIRE(from_line.ok());
  REQUIRE(crlf.ok());
  REQUIRE(blanks.ok());
  CHECK(from_file->pk == from_line->pk);
  CHECK(from_file->key_id == from_line->key_id);
  CHECK(crlf->pk == from_line->pk);
  // The id as minisign prints it in the untrusted comment.
  CHECK(lines[0] == "untrusted comment: minisign public key " + KeyIdHex(from_file->key_id));
}

TEST_CASE("malformed public keys are rejected", "[update][minisign]") {
  const std::string line = Lines(UpdateFixture("test.pub"))[1];
  const std::string bin = Base64Decode(line);
  for (const std::string& bad :
       {std::string(), std::string("not base64!"), line + "A", line + "==", line.substr(0, 40),
        Base64Encode(bin + "x"), Base64Encode(bin.substr(0, 41)),
        Base64Encode("ED" + bin.substr(2)), line + "\n" + line, std::string("comment\n") + line}) {
    INFO(bad);
    Result<PublicKey> k = ParsePublicKey(bad);
    CHECK_FALSE(k.ok());
    CHECK(k.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("a legacy Ed signature is rejected, also one relabelled from ED", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const std::vector<PublicKey> keys = {Key("test.pub")};
  CHECK(RejectionCode(feed, UpdateFixture("stable.json.legacy.minisig"), keys) ==
        reason::kSignatureLegacy);
  const std::string relabelled =
      EditSignatureLine(UpdateFixture("stable.json.minisig"), [](std::string& b) { b[1] = 'd'; });
  CHECK(RejectionCode(feed, relabelled, keys) == reason::kSignatureLegacy);
  // The other way round the signature no longer matches (it is over the message, not
  // its hash).
  const std::string legacy_as_ed = EditSignatureLine(UpdateFixture("stable.json.legacy.minisig"),
                                                     [](std::string& b) { b[1] = 'D'; });
  CHECK(RejectionCode(feed, legacy_as_ed, keys) == reason::kSignatureInvalid);
  const std::string unknown_alg =
      EditSignatureLine(UpdateFixture("stable.json.minisig"), [](std::string& b) { b[0] = 'X'; });
  CHECK(RejectionCode(feed, unknown_alg, keys) == reason::kSignatureAlgorithmUnknown);
}

TEST_CASE("a forged key id is rejected", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const PublicKey test = Key("test.pub");
  const PublicKey test2 = Key("test2.pub");
  // Claims to be by test2 (also trusted): the signature does not verify with test2's key.
  const std::string as_test2 = EditSignatureLine(
      UpdateFixture("stable.json.minisig"),
      [&](std::string& b) { std::copy(test2.key_id.begin(), test2.key_id.end(), b.begin() + 2); });
  CHECK(RejectionCode(feed, as_test2, {test, test2}) == reason::kSignatureInvalid);
  // An id nobody has.
  const std::string unknown =
      EditSignatureLine(UpdateFixture("stable.json.minisig"), [](std::string& b) { b[2] ^= 0x01; });
  CHECK(RejectionCode(feed, unknown, {test, test2}) == reason::kKeyUnknown);
}

TEST_CASE("a signature by an untrusted key, or with no trusted keys, is rejected",
          "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  Checked<VerifiedSignature> v =
      VerifyMinisign(feed, UpdateFixture("stable.json.untrusted.minisig"), {Key("test.pub")});
  REQUIRE_FALSE(v.ok());
  CHECK(v.rejection().code == reason::kKeyUnknown);
  CHECK(v.rejection().message.find(KeyIdHex(Key("untrusted.pub").key_id)) != std::string::npos);
  CHECK(RejectionCode(feed, UpdateFixture("stable.json.minisig"), {}) == reason::kNoTrustedKeys);
}

TEST_CASE("with two trusted keys a feed signed by either verifies (rotation)",
          "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const std::vector<PublicKey> keys = {Key("test.pub"), Key("test2.pub")};
  Checked<VerifiedSignature> by1 = VerifyMinisign(feed, UpdateFixture("stable.json.minisig"), keys);
  Checked<VerifiedSignature> by2 =
      VerifyMinisign(feed, UpdateFixture("stable.json.test2.minisig"), keys);
  REQUIRE(by1.ok());
  REQUIRE(by2.ok());
  CHECK(by1->key_id == keys[0].key_id);
  CHECK(by2->key_id == keys[1].key_id);
  CHECK(RejectionCode(feed, UpdateFixture("stable.json.untrusted.minisig"), keys) ==
        reason::kKeyUnknown);
}

TEST_CASE("a changed feed byte fails the signature", "[update][minisign]") {
  std::string feed = UpdateFixture("stable.json");
  feed[feed.find("1.4.0")] = '2';
  CHECK(RejectionCode(feed, UpdateFixture("stable.json.minisig"), {Key("test.pub")}) ==
        reason::kSignatureInvalid);
  CHECK(RejectionCode(UpdateFixture("stable.json") + "\n", UpdateFixture("stable.json.minisig"),
                      {Key("test.pub")}) == reason::kSignatureInvalid);
}

TEST_CASE("a tampered trusted comment fails the global signature", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  std::vector<std::string> lines = Lines(UpdateFixture("stable.json.minisig"));
  lines[2] =
      "trusted comment: outpost-feed schema=1 channel=stable seq=6 "
      "expires=2030-01-01T00:00:00Z";
  CHECK(RejectionCode(feed, Join(lines), {Key("test.pub")}) ==
        reason::kTrustedCommentSignatureInvalid);
  lines = Lines(UpdateFixture("stable.json.minisig"));
  lines[2] += " ";
  CHECK(RejectionCode(feed, Join(lines), {Key("test.pub")}) ==
        reason::kTrustedCommentSignatureInvalid);
}

TEST_CASE("the signature file has exactly four lines, one trailing newline allowed",
          "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const std::string sig = UpdateFixture("stable.json.minisig");
  const std::vector<PublicKey> keys = {Key("test.pub")};
  REQUIRE(sig.back() == '\n');
  CHECK(RejectionCode(feed, sig, keys) == "ok");
  CHECK(RejectionCode(feed, sig.substr(0, sig.size() - 1), keys) == "ok");
  CHECK(RejectionCode(feed, sig + "\n", keys) == reason::kSignatureMalformed);
  CHECK(RejectionCode(feed, sig + "extra line\n", keys) == reason::kSignatureMalformed);
  CHECK(RejectionCode(feed, "\n" + sig, keys) == reason::kSignatureMalformed);
  std::vector<std::string> lines = Lines(sig);
  CHECK(RejectionCode(feed, Join({lines[0], lines[1], lines[2]}), keys) ==
        reason::kSignatureMalformed);
  CHECK(RejectionCode(feed, Join({"untrusted: x", lines[1], lines[2], lines[3]}), keys) ==
        reason::kSignatureMalformed);
  CHECK(RejectionCode(feed, Join({lines[0], lines[1], "comment: x", lines[3]}), keys) ==
        reason::kSignatureMalformed);
  // A CR (a file converted to CRLF) is not part of the format.
  std::string crlf;
  for (const std::string& l : lines) crlf += l + "\r\n";
  CHECK(RejectionCode(feed, crlf, keys) != "ok");
}

TEST_CASE("bad base64 in the signature lines is rejected", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const std::vector<PublicKey> keys = {Key("test.pub")};
  const std::vector<std::string> lines = Lines(UpdateFixture("stable.json.minisig"));
  const std::string bin = Base64Decode(lines[1]);
  for (const std::string& line1 :
       {lines[1] + "A", lines[1] + "=", "!" + lines[1].substr(1), lines[1].substr(0, 99),
        Base64Encode(bin.substr(0, 73)), Base64Encode(bin + "x"), lines[1] + " ", std::string()}) {
    INFO(line1);
    CHECK(RejectionCode(feed, Join({lines[0], line1, lines[2], lines[3]}), keys) ==
          reason::kSignatureMalformed);
  }
  for (const std::string& line3 : {lines[3] + "AAAA", lines[3].substr(0, 84), std::string("@")}) {
    INFO(line3);
    CHECK(RejectionCode(feed, Join({lines[0], lines[1], lines[2], line3}), keys) ==
          reason::kSignatureMalformed);
  }
}

TEST_CASE("an oversize or empty signature is rejected before parsing", "[update][minisign]") {
  const std::string feed = UpdateFixture("stable.json");
  const std::vector<PublicKey> keys = {Key("test.pub")};
  std::vector<std::string> lines = Lines(UpdateFixture("stable.json.minisig"));
  lines[0] += std::string(kMaxSignatureBytes, 'x');
  CHECK(RejectionCode(feed, Join(lines), keys) == reason::kSignatureTooLarge);
  CHECK(RejectionCode(feed, "", keys) == reason::kSignatureMissing);
}

TEST_CASE("trusted keys: the compiled-in set plus config keys, duplicates removed",
          "[update][minisign]") {
  const std::string k1 = Lines(UpdateFixture("test.pub"))[1];
  const std::string k2 = Lines(UpdateFixture("test2.pub"))[1];
  Result<std::vector<PublicKey>> keys = TrustedKeys(BuiltinKeySet{}, {k1, k2, k1});
  REQUIRE(keys.ok());
  CHECK(keys->size() == 2);

  const BuiltinKeySet builtin{1, {{"release-test", k2}}};
  keys = TrustedKeys(builtin, {k1, k2});
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[0].key_id == Key("test2.pub").key_id);

  Result<std::vector<PublicKey>> bad = TrustedKeys(BuiltinKeySet{}, {k1, "nonsense"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().message().find("update.public_keys[1]") != std::string::npos);

  // A different key claiming an id already trusted is refused: ids must be unique.
  std::string clash = Base64Decode(k2);
  const std::string id1 = Base64Decode(k1).substr(2, 8);
  std::copy(id1.begin(), id1.end(), clash.begin() + 2);
  CHECK_FALSE(TrustedKeys(BuiltinKeySet{}, {k1, Base64Encode(clash)}).ok());

  const BuiltinKeySet broken{1, {{"broken", "AAAA"}}};
  CHECK(TrustedKeys(broken, {}).status().code() == Code::kInternal);
}

TEST_CASE("the compiled-in keys parse and none is a test key", "[update][minisign]") {
  // The release process adds the release key (docs/update-feed.md); a test or
  // development key must never be compiled in.
  Result<std::vector<PublicKey>> keys = TrustedKeys({});
  REQUIRE(keys.ok());
  CHECK(keys->size() == BuiltinKeys().keys.size());
  for (std::string_view fixture : {"test.pub", "test2.pub", "untrusted.pub"}) {
    for (const PublicKey& k : *keys) CHECK(k.key_id != Key(fixture).key_id);
  }
}

}  // namespace
}  // namespace outpost::update
