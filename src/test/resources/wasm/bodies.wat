;; Bodies, trailers and the response phase, one behaviour per plugin configuration (two letters):
;; rb: buffers the request body (StopIterationAndBuffer until its end), then puts "rewritten-by-wasm:"
;;     before it (the body grows);
;; rs: streams the request body: each piece upper-cased as it passes (Continue), logged with its
;;     end-of-stream flag;
;; ps: the same for the response body;
;; pc: pauses the response headers for a call-out to "auth" (GET /status?code=200 with x-token in the
;;     request, else 403); on 2xx adds x-checked: yes to the response and continues it, else answers
;;     403 itself;
;; lr: replaces the response from its response headers callback: 418 "replaced by wasm", x-replaced: yes;
;; tr: reads the trailer x-checksum of the request and adds x-wasm-saw with its value; adds the
;;     trailer x-wasm-trailer: added to the response.
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_buf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func $set_buf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_dispatch_http_call" (func $dispatch (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $local (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 65536))
  (global $mode (mut i32) (i32.const 0))
  (data (i32.const 0) "x-token")
  (data (i32.const 16) "auth")
  (data (i32.const 32) ":status")
  (data (i32.const 48) "denied after the response\n")
  (data (i32.const 80) "rewritten-by-wasm:")
  (data (i32.const 112) "x-checked")
  (data (i32.const 128) "yes")
  (data (i32.const 144) "replaced by wasm\n")
  (data (i32.const 176) "request body piece, end of stream: X")
  (data (i32.const 224) "response body piece, end of stream: X")
  (data (i32.const 272) "x-checksum")
  (data (i32.const 288) "x-wasm-saw")
  (data (i32.const 320) "x-wasm-trailer")
  (data (i32.const 336) "added")
  (data (i32.const 400) "\03\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\10\00\00\00\0a\00\00\00\04\00\00\00:method\00GET\00:path\00/status?code=200\00:authority\00auth\00")
  (data (i32.const 500) "\03\00\00\00\07\00\00\00\03\00\00\00\05\00\00\00\10\00\00\00\0a\00\00\00\04\00\00\00:method\00GET\00:path\00/status?code=403\00:authority\00auth\00")
  (data (i32.const 600) "\01\00\00\00\0a\00\00\00\03\00\00\00x-replaced\00yes\00")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
    (drop (call $get_buf (i32.const 7) (i32.const 0) (i32.const 2) (i32.const 300) (i32.const 304)))
    (global.set $mode (i32.load16_u (i32.load (i32.const 300))))
    (i32.const 1))
  (func $is (param $two i32) (result i32) (i32.eq (global.get $mode) (local.get $two)))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (global.set $heap (i32.const 65536))
    (i32.const 0))
  ;; Upper-cases the ASCII letters of the whole buffer (type $buffer) in place, and puts it back.
  (func $upper (param $buffer i32) (param $size i32)
    (local $p i32) (local $len i32) (local $i i32) (local $b i32)
    (if (call $get_buf (local.get $buffer) (i32.const 0) (local.get $size) (i32.const 300) (i32.const 304)) (then (return)))
    (local.set $p (i32.load (i32.const 300)))
    (local.set $len (i32.load (i32.const 304)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (if (i32.and (i32.ge_u (local.get $b) (i32.const 97)) (i32.le_u (local.get $b) (i32.const 122)))
          (then (i32.store8 (i32.add (local.get $p) (local.get $i)) (i32.sub (local.get $b) (i32.const 32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (drop (call $set_buf (local.get $buffer) (i32.const 0) (local.get $size) (local.get $p) (local.get $len)))
    (global.set $heap (i32.const 65536)))
  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (if (call $is (i32.const 0x6272)) ;; "rb"
      (then
        (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
        (drop (call $set_buf (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 80) (i32.const 18)))
        (return (i32.const 0))))
    (if (call $is (i32.const 0x7372)) ;; "rs"
      (then
        (call $upper (i32.const 0) (local.get $size))
        (i32.store8 (i32.const 211) (i32.add (i32.const 48) (local.get $eos)))
        (drop (call $log (i32.const 2) (i32.const 176) (i32.const 36)))))
    (i32.const 0))
  (func (export "proxy_on_response_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (if (call $is (i32.const 0x7370)) ;; "ps"
      (then
        (call $upper (i32.const 1) (local.get $size))
        (i32.store8 (i32.const 260) (i32.add (i32.const 48) (local.get $eos)))
        (drop (call $log (i32.const 2) (i32.const 224) (i32.const 37)))))
    (i32.const 0))
  (func (export "proxy_on_response_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (global.set $heap (i32.const 65536))
    (if (call $is (i32.const 0x726c)) ;; "lr"
      (then
        (drop (call $local (i32.const 418) (i32.const 0) (i32.const 0) (i32.const 144) (i32.const 17) (i32.const 600) (i32.const 27) (i32.const -1)))
        (return (i32.const 1))))
    (if (call $is (i32.const 0x6370)) ;; "pc"
      (then
        (if (call $dispatch (i32.const 16) (i32.const 4)
              (select (i32.const 400) (i32.const 500)
                (i32.eqz (call $get (i32.const 0) (i32.const 0) (i32.const 7) (i32.const 300) (i32.const 304))))
              (i32.const 79) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 308))
          (then (unreachable)))
        (return (i32.const 1))))
    (i32.const 0))
  (func (export "proxy_on_http_call_response") (param $ctx i32) (param $token i32) (param $headers i32) (param $body i32) (param $trailers i32)
    (if (i32.eqz (call $get (i32.const 6) (i32.const 32) (i32.const 7) (i32.const 300) (i32.const 304)))
      (then
        (if (i32.eq (i32.load8_u (i32.load (i32.const 300))) (i32.const 50))
          (then
            (drop (call $add (i32.const 2) (i32.const 112) (i32.const 9) (i32.const 128) (i32.const 3)))
            (drop (call $continue (i32.const 1)))
            (return)))))
    (drop (call $local (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 48) (i32.const 26) (i32.const 0) (i32.const 0) (i32.const -1))))
  (func (export "proxy_on_request_trailers") (param $ctx i32) (param $n i32) (result i32)
    (if (call $is (i32.const 0x7274)) ;; "tr"
      (then
        (if (i32.eqz (call $get (i32.const 1) (i32.const 272) (i32.const 10) (i32.const 300) (i32.const 304)))
          (then (drop (call $add (i32.const 1) (i32.const 288) (i32.const 10) (i32.load (i32.const 300)) (i32.load (i32.const 304))))))))
    (i32.const 0))
  (func (export "proxy_on_response_trailers") (param $ctx i32) (param $n i32) (result i32)
    (if (call $is (i32.const 0x7274))
      (then (drop (call $add (i32.const 3) (i32.const 320) (i32.const 14) (i32.const 336) (i32.const 5)))))
    (i32.const 0)))
