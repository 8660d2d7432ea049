;; Pauses for call-outs, and call-outs from the root context; one behaviour per plugin configuration
;; (two letters):
;; iq: inspects the request body: keeps it to its end, then POSTs it to the "inspect" upstream at the
;;     path the request's x-inspect-path names, and pauses; continues the request on a 2xx answer,
;;     else answers 403 "rejected by inspection" itself;
;; in: the same call-out with a 50 ms timeout, whose callback neither continues nor answers;
;; rp: pauses the response body at its first piece for a call-out to "inspect" (GET /held) and
;;     continues it when the call-out answers; the later pieces pass;
;; tk: from the root context's tick, fetches GET /bytes?n=16&noise=1 from the "data" upstream once,
;;     stores the answer's body in shared data "fetched" (trapping unless it came to the root context)
;;     and stops ticking, logging "stored the fetched data"; each request then gets it as x-fetched;
;; cl: in proxy_on_configure, dispatches GET /held to "data" 20 times, and stores in shared data
;;     "calls" how many were accepted and the status of the first refused (as "16 2"); each request
;;     gets it as x-root-calls; each answer, on the root context, is logged "root call answered".
;; hp: pauses the request headers with no call-out to resume them;
;; lb: keeps the request body to its end, then answers 451 "refused by the body callback" from it;
;; tp: pauses the request trailers for a call-out to "inspect" (GET /status?code=200), whose callback
;;     adds the trailer x-inspected: yes and continues the request.
;; Every stream's end is logged "stream done".
(module
  (import "env" "proxy_get_buffer_bytes" (func $get_buf (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_dispatch_http_call" (func $dispatch (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_continue_stream" (func $continue (param i32) (result i32)))
  (import "env" "proxy_send_local_response" (func $local (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func $period (param i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func $getShared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $setShared (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 16)
  (global $heap (mut i32) (i32.const 65536))
  (global $mode (mut i32) (i32.const 0))
  ;; tk: 0 nothing fetched, 1 the fetch in flight, 2 stored.
  (global $fetch (mut i32) (i32.const 0))
  ;; rp: the response body's call-out was sent.
  (global $dispatched (mut i32) (i32.const 0))
  (data (i32.const 0) "x-inspect-path")
  (data (i32.const 16) "inspect")
  (data (i32.const 32) ":status")
  (data (i32.const 48) "rejected by inspection\n")
  (data (i32.const 80) ":method")
  (data (i32.const 88) ":path")
  (data (i32.const 96) ":authority")
  (data (i32.const 112) "POST")
  (data (i32.const 120) "GET")
  (data (i32.const 128) "/held")
  (data (i32.const 144) "data")
  (data (i32.const 160) "/bytes?n=16&noise=1")
  (data (i32.const 192) "fetched")
  (data (i32.const 208) "x-fetched")
  (data (i32.const 224) "stored the fetched data")
  (data (i32.const 256) "calls")
  (data (i32.const 272) "x-root-calls")
  (data (i32.const 288) "root call answered")
  (data (i32.const 320) "stream done")
  (data (i32.const 480) "refused by the body callback\n")
  (data (i32.const 512) "/status?code=200")
  (data (i32.const 544) "x-inspected")
  (data (i32.const 560) "yes")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func $is (param $two i32) (result i32) (i32.eq (global.get $mode) (local.get $two)))
  ;; Copies $len bytes from $src to $at and a NUL after them; returns where the next item goes.
  (func $put (param $at i32) (param $src i32) (param $len i32) (result i32)
    (memory.copy (local.get $at) (local.get $src) (local.get $len))
    (i32.store8 (i32.add (local.get $at) (local.get $len)) (i32.const 0))
    (i32.add (i32.add (local.get $at) (local.get $len)) (i32.const 1)))
  ;; Encodes the call-out head {:method, :path, :authority} at 2048; returns its size.
  (func $head (param $m i32) (param $ml i32) (param $p i32) (param $pl i32) (param $a i32) (param $al i32) (result i32)
    (local $at i32)
    (i32.store (i32.const 2048) (i32.const 3))
    (i32.store (i32.const 2052) (i32.const 7))
    (i32.store (i32.const 2056) (local.get $ml))
    (i32.store (i32.const 2060) (i32.const 5))
    (i32.store (i32.const 2064) (local.get $pl))
    (i32.store (i32.const 2068) (i32.const 10))
    (i32.store (i32.const 2072) (local.get $al))
    (local.set $at (call $put (i32.const 2076) (i32.const 80) (i32.const 7)))
    (local.set $at (call $put (local.get $at) (local.get $m) (local.get $ml)))
    (local.set $at (call $put (local.get $at) (i32.const 88) (i32.const 5)))
    (local.set $at (call $put (local.get $at) (local.get $p) (local.get $pl)))
    (local.set $at (call $put (local.get $at) (i32.const 96) (i32.const 10)))
    (local.set $at (call $put (local.get $at) (local.get $a) (local.get $al)))
    (i32.sub (local.get $at) (i32.const 2048)))
  ;; GET $path from $upstream (both given as address and length), with a timeout; traps when refused.
  (func $fetch (param $u i32) (param $ul i32) (param $p i32) (param $pl i32) (param $timeout i32) (result i32)
    (call $dispatch (local.get $u) (local.get $ul)
      (i32.const 2048) (call $head (i32.const 120) (i32.const 3) (local.get $p) (local.get $pl) (local.get $u) (local.get $ul))
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (local.get $timeout) (i32.const 408)))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
    (local $i i32) (local $ok i32) (local $status i32) (local $first i32)
    (drop (call $get_buf (i32.const 7) (i32.const 0) (i32.const 2) (i32.const 440) (i32.const 444)))
    (global.set $mode (i32.load16_u (i32.load (i32.const 440))))
    (global.set $heap (i32.const 65536))
    (if (call $is (i32.const 0x6b74)) ;; "tk"
      (then (if (call $period (i32.const 10)) (then (unreachable)))))
    (if (call $is (i32.const 0x6c63)) ;; "cl"
      (then
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (i32.const 20)))
            (local.set $status (call $fetch (i32.const 144) (i32.const 4) (i32.const 128) (i32.const 5) (i32.const 60000)))
            (if (local.get $status)
              (then (if (i32.eqz (local.get $first)) (then (local.set $first (local.get $status)))))
              (else (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (i32.store8 (i32.const 460) (i32.add (i32.const 48) (i32.div_u (local.get $ok) (i32.const 10))))
        (i32.store8 (i32.const 461) (i32.add (i32.const 48) (i32.rem_u (local.get $ok) (i32.const 10))))
        (i32.store8 (i32.const 462) (i32.const 32))
        (i32.store8 (i32.const 463) (i32.add (i32.const 48) (local.get $first)))
        (drop (call $setShared (i32.const 256) (i32.const 5) (i32.const 460) (i32.const 4) (i32.const 0)))))
    (i32.const 1))
  (func (export "proxy_on_tick") (param $ctx i32)
    (if (i32.eqz (global.get $fetch))
      (then
        (global.set $heap (i32.const 65536))
        (if (call $fetch (i32.const 144) (i32.const 4) (i32.const 160) (i32.const 19) (i32.const 5000)) (then (unreachable)))
        (global.set $fetch (i32.const 1)))))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (global.set $heap (i32.const 65536))
    (global.set $dispatched (i32.const 0))
    (if (call $is (i32.const 0x6b74)) ;; "tk"
      (then
        (if (i32.eqz (call $getShared (i32.const 192) (i32.const 7) (i32.const 420) (i32.const 424) (i32.const 428)))
          (then (drop (call $add (i32.const 0) (i32.const 208) (i32.const 9) (i32.load (i32.const 420)) (i32.load (i32.const 424))))))))
    (if (call $is (i32.const 0x6c63)) ;; "cl"
      (then
        (if (i32.eqz (call $getShared (i32.const 256) (i32.const 5) (i32.const 420) (i32.const 424) (i32.const 428)))
          (then (drop (call $add (i32.const 0) (i32.const 272) (i32.const 12) (i32.load (i32.const 420)) (i32.load (i32.const 424))))))))
    (call $is (i32.const 0x7068))) ;; "hp" pauses, with nothing to resume it
  (func (export "proxy_on_request_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (if (call $is (i32.const 0x626c)) ;; "lb"
      (then
        (if (local.get $eos)
          (then (drop (call $local (i32.const 451) (i32.const 0) (i32.const 0) (i32.const 480) (i32.const 29) (i32.const 0) (i32.const 0) (i32.const -1)))))
        (return (i32.const 1))))
    (if (i32.eqz (i32.or (call $is (i32.const 0x7169)) (call $is (i32.const 0x6e69)))) ;; "iq", "in"
      (then (return (i32.const 0))))
    (if (i32.eqz (local.get $eos)) (then (return (i32.const 1))))
    ;; The whole body, and the path the client wants it inspected at.
    (if (call $get_buf (i32.const 0) (i32.const 0) (local.get $size) (i32.const 412) (i32.const 416)) (then (unreachable)))
    (if (call $get (i32.const 0) (i32.const 0) (i32.const 14) (i32.const 400) (i32.const 404)) (then (unreachable)))
    (if (call $dispatch (i32.const 16) (i32.const 7)
          (i32.const 2048) (call $head (i32.const 112) (i32.const 4) (i32.load (i32.const 400)) (i32.load (i32.const 404)) (i32.const 16) (i32.const 7))
          (i32.load (i32.const 412)) (i32.load (i32.const 416)) (i32.const 0) (i32.const 0)
          (select (i32.const 50) (i32.const 5000) (call $is (i32.const 0x6e69))) (i32.const 408))
      (then (unreachable)))
    (i32.const 1))
  (func (export "proxy_on_response_body") (param $ctx i32) (param $size i32) (param $eos i32) (result i32)
    (if (i32.eqz (call $is (i32.const 0x7072))) (then (return (i32.const 0)))) ;; "rp"
    (if (global.get $dispatched) (then (return (i32.const 0))))
    (global.set $dispatched (i32.const 1))
    (if (call $fetch (i32.const 16) (i32.const 7) (i32.const 128) (i32.const 5) (i32.const 60000)) (then (unreachable)))
    (i32.const 1))
  (func (export "proxy_on_request_trailers") (param $ctx i32) (param $n i32) (result i32)
    (if (i32.eqz (call $is (i32.const 0x7074))) (then (return (i32.const 0)))) ;; "tp"
    (if (call $fetch (i32.const 16) (i32.const 7) (i32.const 512) (i32.const 16) (i32.const 5000)) (then (unreachable)))
    (i32.const 1))
  (func (export "proxy_on_http_call_response") (param $ctx i32) (param $token i32) (param $headers i32) (param $body i32) (param $trailers i32)
    (if (call $is (i32.const 0x7074)) ;; "tp": the trailers are there to change while paused
      (then
        (if (call $add (i32.const 1) (i32.const 544) (i32.const 11) (i32.const 560) (i32.const 3)) (then (unreachable)))
        (drop (call $continue (i32.const 0)))
        (return)))
    (if (call $is (i32.const 0x6e69)) (then (return))) ;; "in": neither continues nor answers
    (if (call $is (i32.const 0x7072)) ;; "rp"
      (then
        (drop (call $continue (i32.const 1)))
        (return)))
    (if (call $is (i32.const 0x6b74)) ;; "tk"
      (then
        (if (i32.ne (local.get $ctx) (i32.const 1)) (then (unreachable)))
        (if (i32.eqz (local.get $headers))
          (then
            (global.set $fetch (i32.const 0)) ;; failed: the next tick tries again
            (return)))
        (global.set $heap (i32.const 65536))
        (if (call $get_buf (i32.const 4) (i32.const 0) (local.get $body) (i32.const 412) (i32.const 416)) (then (unreachable)))
        (if (call $setShared (i32.const 192) (i32.const 7) (i32.load (i32.const 412)) (i32.load (i32.const 416)) (i32.const 0)) (then (unreachable)))
        (drop (call $period (i32.const 0)))
        (global.set $fetch (i32.const 2))
        (drop (call $log (i32.const 2) (i32.const 224) (i32.const 23)))
        (return)))
    (if (call $is (i32.const 0x6c63)) ;; "cl"
      (then
        (if (i32.ne (local.get $ctx) (i32.const 1)) (then (unreachable)))
        (drop (call $log (i32.const 2) (i32.const 288) (i32.const 18)))
        (return)))
    ;; "iq": the inspection's verdict.
    (if (i32.eqz (call $get (i32.const 6) (i32.const 32) (i32.const 7) (i32.const 400) (i32.const 404)))
      (then
        (if (i32.eq (i32.load8_u (i32.load (i32.const 400))) (i32.const 50))
          (then
            (drop (call $continue (i32.const 0)))
            (return)))))
    (drop (call $local (i32.const 403) (i32.const 0) (i32.const 0) (i32.const 48) (i32.const 23) (i32.const 0) (i32.const 0) (i32.const -1))))
  (func (export "proxy_on_done") (param $ctx i32) (result i32)
    (drop (call $log (i32.const 2) (i32.const 320) (i32.const 11)))
    (i32.const 1)))
