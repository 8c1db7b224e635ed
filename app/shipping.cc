// Building the uploader from [output]; see shipping.h.
#include "shipping.h"

#include <fstream>
#include <random>
#include <sstream>

#include "outpost/platform/system.h"
#include "ship/tls_trust.h"
#include "util/build_info.h"

namespace outpost::app {
namespace {

Result<std::string> ReadToken(const OutputConfig& out) {
  if (!out.token.empty()) return out.token;
  if (out.token_file.empty()) return std::string();
  std::ifstream in(out.token_file, std::ios::binary);
  if (!in)
    return PermissionDenied("cannot read output.token_file " + out.token_file.string() +
                            ": check that it exists and the agent may read it");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty())
    return InvalidArgument("output.token_file " + out.token_file.string() + " is empty");
  return token;
}

}  // namespace

Result<std::unique_ptr<Shipping>> SetUpShipping(Cli& cli, const Config& config,
                                                const std::string& agent_id,
                                                const std::string& host) {
  const OutputConfig& out = *config.output;
  ComponentLogger log(cli.logger(), "ship");
  auto s = std::make_unique<Shipping>();

  OutputContext ctx;
  ctx.endpoint = out.endpoint;
  ctx.agent_id = agent_id;
  ctx.host = host;
  ctx.os = std::string(platform::OsName());
  ctx.version = std::string(GetBuildInfo().version);
  ctx.config = out;
  Result<std::string> token = ReadToken(out);
  if (!token.ok()) return token.status();
  ctx.token = *token;
  Result<std::unique_ptr<Output>> output = MakeOutput(ctx);
  if (!output.ok()) return output.status();
  s->output = std::move(output).value();

  TransportOptions t;
  t.user_agent = "outpost/" + std::string(GetBuildInfo().version) + " (" +
                 std::string(platform::OsName()) + "; " + std::string(platform::ArchName()) + ")";
  if (s->output->bearer_auth()) t.bearer_token = *token;
  t.max_in_flight = static_cast<size_t>(out.max_in_flight);
  t.timeout = out.timeout;
  t.connect_timeout = out.connect_timeout;
  t.rate_limit = out.rate_limit;
  t.trust = ResolveTlsTrust(out.ca_file);
  t.client_cert = out.client_cert;
  t.client_key = out.client_key;
  t.client_key_passphrase = out.client_key_passphrase;
  t.pinned_pubkey = out.pinned_pubkey;
  t.insecure_skip_verify = out.insecure_skip_verify;
  t.proxy = out.proxy;
  t.proxy_username = out.proxy_username;
  t.proxy_password = out.proxy_password;
  if (out.insecure_skip_verify)
    log.Warn(
        "output.insecure_skip_verify = true: the endpoint's certificate is NOT checked; "
        "anyone on the path can read and change what is sent");
  if (out.endpoint.rfind("http://", 0) == 0)
    log.Warn("output.endpoint " + out.endpoint +
             " is plain http: use it only for a relay on this host");
  Result<std::unique_ptr<HttpTransport>> transport = HttpTransport::Create(t);
  if (!transport.ok()) return transport.status();
  s->transport = std::move(transport).value();

  Result<std::unique_ptr<BufferStore>> store =
      BufferStore::Open(BufferStoreOptions(config), cli.clock(), cli.logger());
  if (!store.ok()) return store.status();
  s->store = std::move(store).value();

  s->shipper = std::make_unique<Shipper>(out, *s->store, *s->transport, *s->output, cli.clock(),
                                         cli.logger(), std::random_device{}());
  log.Info("shipping to " + out.endpoint + " (" + std::string(s->output->name()) + " output, " +
           t.trust.Describe() + ")");
  return s;
}

}  // namespace outpost::app
