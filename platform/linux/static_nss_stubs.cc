// Linked into the fully static Linux binary only (OUTPOST_STATIC).
//
// A statically linked glibc program that calls getaddrinfo, gethostbyname,
// getservbyname or dlopen loads the host's NSS modules and shared libraries at run
// time: modules built for another glibc version, which can crash the process on the
// customer machines we never see. outpost never needs them (curl resolves through
// c-ares, which reads /etc/hosts and /etc/resolv.conf itself; users and groups are
// read from /etc/passwd and /etc/group directly), but OpenSSL and c-ares reference
// them on paths we do not take (OpenSSL's BIO address helpers and DSO loader, c-ares's
// service-name lookup). These definitions take the place of glibc's, so those paths
// fail cleanly with "not found" instead, and the link prints no NSS warning. One
// warning remains, for dlopen: glibc's own iconv module loader (gconv_dl) pulls in
// libc's dlopen object, whose warning then names every reference to dlopen; the
// references from OpenSSL still bind to the stub below.
#include <dlfcn.h>
#include <netdb.h>

#include <cerrno>

extern "C" {

int getaddrinfo(const char*, const char*, const struct addrinfo*, struct addrinfo** res) {
  if (res != nullptr) *res = nullptr;
  return EAI_FAIL;
}

void freeaddrinfo(struct addrinfo*) {}

struct hostent* gethostbyname(const char*) {
  h_errno = NO_RECOVERY;
  return nullptr;
}

struct servent* getservbyname(const char*, const char*) {
  return nullptr;
}

int getservbyport_r(int, const char*, struct servent*, char*, size_t, struct servent** result) {
  if (result != nullptr) *result = nullptr;
  return ENOENT;
}

int getnameinfo(const struct sockaddr*, socklen_t, char*, socklen_t, char*, socklen_t, int) {
  return EAI_FAIL;
}

void* dlopen(const char*, int) { return nullptr; }
void* dlsym(void*, const char*) { return nullptr; }
int dlclose(void*) { return 0; }
int dladdr(const void*, Dl_info*) { return 0; }

char* dlerror() {
  static char message[] = "outpost is statically linked: loading shared objects is not supported";
  return message;
}

}  // extern "C"
