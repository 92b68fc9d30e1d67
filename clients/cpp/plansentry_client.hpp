// plansentry_client.hpp: a C++17 client of `plansentry serve` for robot stacks, on POSIX sockets
// only (no library to install). One header: HTTP/1.1 with a kept-alive connection, TCP_NODELAY,
// a receive timeout derived from each decision's budget, and the few JSON reads a robot needs.
//
//   plansentry::Client client("127.0.0.1", 8089, token);       // token: "" on loopback
//   std::string ticket = client.ask(context_json);              // plan ahead (may be "")
//   plansentry::Decision d = client.decide(ticket, context_json, 150.0);
//   if (!d.ok()) { /* the service is unreachable: execute the robot's own safe action */ }
//   execute(d.plan_json);                                       // source: llm, a fallback, safe_move
//
// The budget crosses the hop as milliseconds from the service's receipt of the request (the two
// processes share no clock): send your remaining time minus the hop's measured p99 (docs/SERVE.md).
// Thread-safety: one Client per thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

namespace plansentry {

// The raw JSON text of top-level member `key` of object `doc` ("" if absent). Strings keep their
// quotes; nested objects and arrays are returned whole.
inline std::string json_field(const std::string& doc, const std::string& key) {
  size_t i = 0, n = doc.size();
  auto skip_ws = [&] { while (i < n && std::isspace(static_cast<unsigned char>(doc[i]))) ++i; };
  auto skip_string = [&] {  // at the opening quote
    for (++i; i < n; ++i) {
      if (doc[i] == '\\') { ++i; continue; }
      if (doc[i] == '"') { ++i; return; }
    }
  };
  auto skip_value = [&] {
    skip_ws();
    if (i >= n) return;
    if (doc[i] == '"') { skip_string(); return; }
    if (doc[i] == '{' || doc[i] == '[') {
      int depth = 0;
      while (i < n) {
        char c = doc[i];
        if (c == '"') { skip_string(); continue; }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') { --depth; if (depth == 0) { ++i; return; } }
        ++i;
      }
      return;
    }
    while (i < n && doc[i] != ',' && doc[i] != '}' && doc[i] != ']') ++i;  // number, literal
  };
  skip_ws();
  if (i >= n || doc[i] != '{') return "";
  ++i;
  while (i < n) {
    skip_ws();
    if (i >= n || doc[i] != '"') return "";
    size_t k0 = i;
    skip_string();
    std::string name = doc.substr(k0 + 1, i - k0 - 2);
    skip_ws();
    if (i >= n || doc[i] != ':') return "";
    ++i;
    skip_ws();
    size_t v0 = i;
    skip_value();
    size_t v1 = i;
    while (v1 > v0 && std::isspace(static_cast<unsigned char>(doc[v1 - 1]))) --v1;
    if (name == key) return doc.substr(v0, v1 - v0);
    skip_ws();
    if (i < n && doc[i] == ',') ++i;
  }
  return "";
}

// A JSON string literal's text (escapes resolved; \u escapes of ASCII only, others kept raw).
inline std::string json_string(const std::string& raw) {
  if (raw.size() < 2 || raw.front() != '"') return raw;
  std::string out;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') { out += c; continue; }
    char e = raw[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        unsigned code = std::strtoul(raw.substr(i + 1, 4).c_str(), nullptr, 16);
        if (code < 0x80) out += static_cast<char>(code); else out += raw.substr(i - 1, 6);
        i += 4;
        break;
      }
      default: out += e;
    }
  }
  return out;
}

// A JSON string literal for `text`.
inline std::string json_quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') { out += '\\'; out += c; }
    else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += c;
  }
  return out + "\"";
}

struct Response {
  int status = 0;  // 0: no answer (connection refused, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  double rtt_ms = 0;
  std::string error;
};

struct Decision {
  int status = 0;
  std::string source;        // llm, repaired, a fallback's name, safe_move
  std::string failure_mode;  // "" if the model's plan passed or it was not asked
  std::string plan_json;     // the plan to execute (the kit's JSON, or {"safe_move": ...})
  bool on_time = false;
  double rtt_ms = 0;         // this client's round trip
  double server_ms = 0;      // receipt to response in the service (Server-Timing)
  std::string error;         // why there is no decision (status != 200)
  bool ok() const { return status == 200; }
  double hop_ms() const { return rtt_ms - server_ms; }  // the wire, both ways, and parsing
};

class Client {
 public:
  Client(std::string host, int port, std::string token = "")
      : host_(std::move(host)), port_(port), token_(std::move(token)) {}
  ~Client() { close_(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One request; `timeout_ms` bounds the wait for the whole answer.
  Response request(const std::string& method, const std::string& path, const std::string& body,
                   double timeout_ms) {
    Response r;
    auto t0 = std::chrono::steady_clock::now();
    for (int attempt = 0; attempt < 2; ++attempt) {  // a kept-alive connection may have closed
      if (fd_ < 0 && !connect_(r)) break;
      set_timeout_(timeout_ms);
      std::ostringstream req;
      req << method << " " << path << " HTTP/1.1\r\nHost: " << host_ << ":" << port_ << "\r\n";
      if (!token_.empty()) req << "Authorization: Bearer " << token_ << "\r\n";
      if (!body.empty()) req << "Content-Type: application/json\r\n";
      req << "Content-Length: " << body.size() << "\r\n\r\n" << body;
      if (send_all_(req.str()) && read_response_(r)) break;
      close_();
      if (r.error == "timeout") break;  // never resend past a deadline
    }
    r.rtt_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                   .count();
    return r;
  }

  // Ask ahead for a decision point; the ticket id, or "" (the service did not hold one).
  std::string ask(const std::string& context_json, double timeout_ms = 1000) {
    Response r = request("POST", "/v1/tickets", "{\"context\":" + context_json + "}", timeout_ms);
    if (r.status != 201) return "";
    return json_string(json_field(r.body, "ticket"));
  }

  // Give an asked-ahead decision point up (its model call stops).
  bool cancel(const std::string& ticket, double timeout_ms = 1000) {
    return request("DELETE", "/v1/tickets/" + ticket, "", timeout_ms).status == 204;
  }

  // The decision by `budget_ms` after the service receives this request: the ticket's if it is
  // still held, else one asked now from the context.
  Decision decide(const std::string& ticket, const std::string& context_json, double budget_ms) {
    std::ostringstream body;
    body << "{\"context\":" << context_json << ",\"budget_ms\":" << budget_ms;
    if (!ticket.empty()) body << ",\"ticket\":" << json_quote(ticket);
    body << "}";
    return to_decision_(request("POST", "/v1/decide", body.str(), budget_ms + 250), false);
  }

  // The same through the OpenAI-compatible endpoint (the plan is the completion's content).
  Decision chat(const std::string& context_json, double budget_ms) {
    std::ostringstream body;
    body << "{\"model\":\"plansentry\",\"messages\":[],\"plansentry\":{\"context\":"
         << context_json << ",\"budget_ms\":" << budget_ms << "}}";
    Response r = request("POST", "/v1/chat/completions", body.str(), budget_ms + 250);
    Decision d = to_decision_(r, true);
    if (d.ok()) {
      std::string choices = json_field(r.body, "choices");  // [{"index":0,"message":{...}}]
      std::string message = json_field(choices.substr(1), "message");
      d.plan_json = json_string(json_field(message, "content"));
    }
    return d;
  }

 private:
  Decision to_decision_(const Response& r, bool chat) {
    Decision d;
    d.status = r.status;
    d.rtt_ms = r.rtt_ms;
    if (r.status != 200) {
      d.error = r.status ? json_string(json_field(json_field(r.body, "error"), "message")) : r.error;
      return d;
    }
    std::string decision = chat ? json_field(r.body, "plansentry") : r.body;
    d.source = json_string(json_field(decision, "source"));
    std::string mode = json_field(decision, "failure_mode");
    d.failure_mode = mode == "null" ? "" : json_string(mode);
    d.plan_json = json_field(decision, "plan");
    d.on_time = json_field(decision, "on_time") == "true";
    auto timing = r.headers.find("server-timing");  // decide;dur=1.234
    if (timing != r.headers.end()) {
      size_t at = timing->second.find("dur=");
      if (at != std::string::npos) d.server_ms = std::atof(timing->second.c_str() + at + 4);
    }
    return d;
  }

  bool connect_(Response& r) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (fd_ < 0) { r.error = "socket failed"; return false; }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    std::string ip = host_ == "localhost" ? "127.0.0.1" : host_;
    if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
      r.error = "not an IPv4 address: " + host_;
      close_();
      return false;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      r.error = "connection refused";
      close_();
      return false;
    }
    return true;
  }

  void set_timeout_(double timeout_ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_ms / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_ms - tv.tv_sec * 1000.0) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }

  bool send_all_(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t k = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (k <= 0) return false;
      sent += static_cast<size_t>(k);
    }
    return true;
  }

  bool read_response_(Response& r) {
    std::string buf;
    size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!recv_more_(buf, r)) return false;
    }
    std::istringstream head(buf.substr(0, head_end));
    std::string line;
    std::getline(head, line);
    r.status = std::atoi(line.c_str() + line.find(' ') + 1);
    size_t length = 0;
    bool close_after = false;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon), value = line.substr(colon + 1);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      value.erase(0, value.find_first_not_of(' '));
      r.headers[name] = value;
      if (name == "content-length") length = std::strtoul(value.c_str(), nullptr, 10);
      if (name == "connection" && value == "close") close_after = true;
    }
    buf.erase(0, head_end + 4);
    while (buf.size() < length) {
      if (!recv_more_(buf, r)) return false;
    }
    r.body = buf.substr(0, length);
    if (close_after) close_();
    return true;
  }

  bool recv_more_(std::string& buf, Response& r) {
    char chunk[16384];
    ssize_t k = ::recv(fd_, chunk, sizeof chunk, 0);
    if (k > 0) { buf.append(chunk, static_cast<size_t>(k)); return true; }
    r.status = 0;
    r.error = (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) ? "timeout" : "closed";
    return false;
  }

  void close_() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string host_;
  int port_;
  std::string token_;
  int fd_ = -1;
};

}  // namespace plansentry
