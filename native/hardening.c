/*
 * The small part of roles-anywhere-signer that Node cannot do by itself:
 *  - set the IP TTL / IPv6 hop limit of a TCP socket (so credential answers from `serve` die
 *    after N hops, as the reference helper's --hop-limit does; Node has no API for it on TCP);
 *  - keep a long-running process that holds a PIN and credentials out of core dumps and away
 *    from same-user ptrace (RLIMIT_CORE 0, PR_SET_DUMPABLE 0);
 *  - mlock buffers that hold secrets, where the memlock limit permits.
 * Every function is synchronous and cheap (one or two system calls). Failures that the caller
 * must know about throw an Error whose `code` is the errno name; "not permitted here" returns
 * false instead, because the CLI reports it and carries on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <node_api.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define CHECK(env, call)                                                     \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      napi_throw_error((env), "INTERNAL", "N-API call failed: " #call);      \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static const char *errno_name(int error) {
  switch (error) {
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case ENOMEM: return "ENOMEM";
    case EAGAIN: return "EAGAIN";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "ERRNO";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, errno_name(error), message);
  return NULL;
}

static bool read_int_arg(napi_env env, napi_value value, int32_t *out, const char *name) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number) {
    char message[96];
    snprintf(message, sizeof message, "%s must be a number", name);
    napi_throw_type_error(env, "EINVAL", message);
    return false;
  }
  return napi_get_value_int32(env, value, out) == napi_ok;
}

/* The socket's own address family decides which option applies; IPv4 peers of a dual-stack
 * IPv6 socket travel as IPv4, so such a socket gets IP_TTL as well (best effort). */
static int socket_family(int fd, int *family) {
  struct sockaddr_storage address;
  socklen_t length = sizeof address;
  if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return errno;
  *family = address.ss_family;
  return 0;
}

/* setHopLimit(fd, hops): IP_TTL (IPv4) or IPV6_UNICAST_HOPS (IPv6) on a socket. */
static napi_value set_hop_limit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd, hops;
  if (argc < 2 || !read_int_arg(env, argv[0], &fd, "fd") || !read_int_arg(env, argv[1], &hops, "hops")) return NULL;
  if (hops < 1 || hops > 255) {
    napi_throw_range_error(env, "EINVAL", "hops must be from 1 to 255");
    return NULL;
  }
  int family = 0;
  int error = socket_family(fd, &family);
  if (error != 0) return throw_errno(env, "getsockname", error);
  if (family == AF_INET) {
    if (setsockopt(fd, IPPROTO_IP, IP_TTL, &hops, sizeof hops) != 0) return throw_errno(env, "setsockopt(IP_TTL)", errno);
  } else if (family == AF_INET6) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) != 0) return throw_errno(env, "setsockopt(IPV6_UNICAST_HOPS)", errno);
    (void)setsockopt(fd, IPPROTO_IP, IP_TTL, &hops, sizeof hops);
  } else {
    return throw_errno(env, "setHopLimit", EAFNOSUPPORT);
  }
  return NULL;
}

/* getHopLimit(fd): the value the kernel will put in outgoing packets (for tests and --debug). */
static napi_value get_hop_limit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (argc < 1 || !read_int_arg(env, argv[0], &fd, "fd")) return NULL;
  int family = 0;
  int error = socket_family(fd, &family);
  if (error != 0) return throw_errno(env, "getsockname", error);
  int hops = 0;
  socklen_t length = sizeof hops;
  int rc = family == AF_INET6
    ? getsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, &length)
    : getsockopt(fd, IPPROTO_IP, IP_TTL, &hops, &length);
  if (rc != 0) return throw_errno(env, "getsockopt", errno);
  napi_value result;
  CHECK(env, napi_create_int32(env, hops, &result));
  return result;
}

static napi_value make_bool(napi_env env, bool value) {
  napi_value result;
  if (napi_get_boolean(env, value, &result) != napi_ok) return NULL;
  return result;
}

/* disableCoreDumps(): { coreLimitZero, nonDumpable }. Both are one-way for this process. */
static napi_value disable_core_dumps(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit none = { 0, 0 };
  bool core_limit_zero = setrlimit(RLIMIT_CORE, &none) == 0;
  bool non_dumpable = false;
#ifdef __linux__
  non_dumpable = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0;
#endif
  napi_value result;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_set_named_property(env, result, "coreLimitZero", make_bool(env, core_limit_zero)));
  CHECK(env, napi_set_named_property(env, result, "nonDumpable", make_bool(env, non_dumpable)));
  return result;
}

/* processProtection(): what the kernel says now, so tests check the effect, not the call. */
static napi_value process_protection(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit limit;
  double core_soft = -1, core_hard = -1;
  if (getrlimit(RLIMIT_CORE, &limit) == 0) {
    core_soft = limit.rlim_cur == RLIM_INFINITY ? -1 : (double)limit.rlim_cur;
    core_hard = limit.rlim_max == RLIM_INFINITY ? -1 : (double)limit.rlim_max;
  }
  int dumpable = -1;
#ifdef __linux__
  dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#endif
  napi_value result, soft, hard, dump;
  CHECK(env, napi_create_object(env, &result));
  CHECK(env, napi_create_double(env, core_soft, &soft));
  CHECK(env, napi_create_double(env, core_hard, &hard));
  CHECK(env, napi_create_int32(env, dumpable, &dump));
  CHECK(env, napi_set_named_property(env, result, "coreSoftLimit", soft));
  CHECK(env, napi_set_named_property(env, result, "coreHardLimit", hard));
  CHECK(env, napi_set_named_property(env, result, "dumpable", dump));
  return result;
}

static bool buffer_bytes(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) == napi_ok && is_typed_array) {
    napi_typedarray_type type;
    size_t element_count, byte_offset;
    napi_value array_buffer;
    if (napi_get_typedarray_info(env, value, &type, &element_count, data, &array_buffer, &byte_offset) != napi_ok) return false;
    size_t element_size = 1;
    switch (type) {
      case napi_int16_array: case napi_uint16_array: element_size = 2; break;
      case napi_int32_array: case napi_uint32_array: case napi_float32_array: element_size = 4; break;
      case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: element_size = 8; break;
      default: element_size = 1;
    }
    *length = element_count * element_size;
    return true;
  }
  napi_throw_type_error(env, "EINVAL", "expected a Buffer or typed array");
  return false;
}

/* The one Buffer argument of lockMemory/unlockMemory; false (with a JS error set) otherwise. */
static bool buffer_arg(napi_env env, napi_callback_info info, void **data, size_t *length) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < 1) {
    napi_throw_type_error(env, "EINVAL", "expected a Buffer or typed array");
    return false;
  }
  return buffer_bytes(env, argv[0], data, length);
}

/* lockMemory(buffer): true when the pages holding it are locked in RAM (never swapped). */
static napi_value lock_memory(napi_env env, napi_callback_info info) {
  void *data = NULL;
  size_t length = 0;
  if (!buffer_arg(env, info, &data, &length)) return NULL;
  if (length == 0) return make_bool(env, true);
  if (mlock(data, length) == 0) return make_bool(env, true);
  if (errno == EPERM || errno == ENOMEM || errno == EAGAIN) return make_bool(env, false);
  return throw_errno(env, "mlock", errno);
}

/* unlockMemory(buffer): undoes lockMemory once the secret is zeroed. */
static napi_value unlock_memory(napi_env env, napi_callback_info info) {
  void *data = NULL;
  size_t length = 0;
  if (!buffer_arg(env, info, &data, &length)) return NULL;
  if (length > 0) (void)munlock(data, length);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
    { "setHopLimit", NULL, set_hop_limit, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getHopLimit", NULL, get_hop_limit, NULL, NULL, NULL, napi_enumerable, NULL },
    { "disableCoreDumps", NULL, disable_core_dumps, NULL, NULL, NULL, napi_enumerable, NULL },
    { "processProtection", NULL, process_protection, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lockMemory", NULL, lock_memory, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unlockMemory", NULL, unlock_memory, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
