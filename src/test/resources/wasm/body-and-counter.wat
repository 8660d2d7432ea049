;; Rewrites the response body (ASCII letters to upper case, read and written through the body buffer)
;; and counts requests in shared data with compare-and-swap, across every VM of the plugin (one per
;; event-loop thread), sending the count upstream as x-count.
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_buf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $get_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set_shared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (data (i32.const 0) "count")
  (data (i32.const 16) "x-count")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (local $count i32) (local $cas i32) (local $at i32)
    (global.set $heap (i32.const 65536))
    (loop $retry
      (if (i32.eqz (call $get_shared (i32.const 0) (i32.const 5) (i32.const 300) (i32.const 304) (i32.const 308)))
        (then
          (local.set $count (i32.load (i32.load (i32.const 300))))
          (local.set $cas (i32.load (i32.const 308))))
        (else
          (local.set $count (i32.const 0))
          (local.set $cas (i32.const 0))))
      (i32.store (i32.const 400) (i32.add (local.get $count) (i32.const 1)))
      (br_if $retry (i32.eq (call $set_shared (i32.const 0) (i32.const 5) (i32.const 400) (i32.const 4) (local.get $cas)) (i32.const 8))))
    ;; the new count in decimal, written backwards ending at 520
    (local.set $count (i32.add (local.get $count) (i32.const 1)))
    (local.set $at (i32.const 520))
    (loop $digit
      (local.set $at (i32.sub (local.get $at) (i32.const 1)))
      (i32.store8 (local.get $at) (i32.add (i32.const 48) (i32.rem_u (local.get $count) (i32.const 10))))
      (local.set $count (i32.div_u (local.get $count) (i32.const 10)))
      (br_if $digit (i32.ne (local.get $count) (i32.const 0))))
    (drop (call $add (i32.const 0) (i32.const 16) (i32.const 7) (local.get $at) (i32.sub (i32.const 520) (local.get $at))))
    (i32.const 0))
  (func (export "proxy_on_response_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (local $p i32) (local $len i32) (local $i i32) (local $b i32)
    (if (i32.eqz (local.get $eos)) (then (return (i32.const 1)))) ;; StopIterationAndBuffer until the whole body is there
    (if (call $get_buf (i32.const 1) (i32.const 0) (local.get $size) (i32.const 200) (i32.const 204)) (then (return (i32.const 0))))
    (local.set $p (i32.load (i32.const 200)))
    (local.set $len (i32.load (i32.const 204)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 97)) (i32.le_u (local.get $b) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $b) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (drop (call $set_buf (i32.const 1) (i32.const 0) (local.get $size) (local.get $p) (local.get $len)))
    (i32.const 0)))
