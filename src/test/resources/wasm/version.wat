;; Adds x-plugin-version to every response; the test builds two modules from this text, VERSION
;; replaced by "old" and "new", to tell which module answered a request.
(module
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x-plugin-version")
  (data (i32.const 32) "VERSION")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32) (i32.const 1024))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_response_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (drop (call $add (i32.const 2) (i32.const 0) (i32.const 16) (i32.const 32) (i32.const 3)))
    (i32.const 0)))
