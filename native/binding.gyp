{
  "targets": [
    {
      "target_name": "roles_anywhere_native",
      "sources": ["hardening.c"],
      "cflags": ["-Wall", "-Wextra", "-Werror=implicit-function-declaration", "-O2", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
