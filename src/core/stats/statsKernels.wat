;; Layerscope's statistics kernels, in WebAssembly: the three per-element passes of computeTensorStats
;; (src/core/stats/tensorStats.ts) for float32 tensors, and the sum of squares behind gradient norms. A probe runs in a
;; fresh process and summarises every activation of a network once, so its JavaScript loops never got past V8's slow
;; start-up tiers; WebAssembly is compiled before it runs.
;; The TypeScript loops in tensorStats.ts stay the reference: the tests check that both give the same bins, counts
;; and order statistics.
;;
;; Assembled by `npm run build:kernels` (scripts/buildStatsKernels.mjs, with wabt) into statsKernelsWasm.ts. Pointers
;; are byte offsets into the exported memory; the caller (wasmStatsKernels.ts) lays the buffers out and grows it.
(module
  (memory (export "memory") 1)

  ;; scan(p, n, out): the sum (in float64), minimum, maximum, count of non-zero elements and count of negative elements
  ;; of the n float32 at p, stored as five float64 at out. Four lanes at a time; the sum keeps two float64x2 accumulators, as exact as a serial float64
  ;; sum up to rounding order. A NaN or infinity makes the sum non-finite, and the caller then rescans carefully.
  (func (export "scan") (param $p i32) (param $n i32) (param $out i32)
    (local $end i32) (local $end4 i32) (local $v v128)
    (local $sumA v128) (local $sumB v128) (local $mn v128) (local $mx v128) (local $nz v128) (local $ng v128)
    (local $s f64) (local $lo f32) (local $hi f32) (local $cnt i32) (local $neg i32) (local $x f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $mn (f32x4.splat (f32.const inf)))
    (local.set $mx (f32x4.splat (f32.const -inf)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end4)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $sumA (f64x2.add (local.get $sumA) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $sumB (f64x2.add (local.get $sumB)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $mn (f32x4.min (local.get $mn) (local.get $v)))
        (local.set $mx (f32x4.max (local.get $mx) (local.get $v)))
        (local.set $nz (i32x4.sub (local.get $nz) (f32x4.ne (local.get $v) (f32x4.splat (f32.const 0)))))
        (local.set $ng (i32x4.sub (local.get $ng) (f32x4.lt (local.get $v) (f32x4.splat (f32.const 0)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l)))
    (local.set $sumA (f64x2.add (local.get $sumA) (local.get $sumB)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $sumA)) (f64x2.extract_lane 1 (local.get $sumA))))
    (local.set $lo (f32.min (f32.min (f32x4.extract_lane 0 (local.get $mn)) (f32x4.extract_lane 1 (local.get $mn)))
                            (f32.min (f32x4.extract_lane 2 (local.get $mn)) (f32x4.extract_lane 3 (local.get $mn)))))
    (local.set $hi (f32.max (f32.max (f32x4.extract_lane 0 (local.get $mx)) (f32x4.extract_lane 1 (local.get $mx)))
                            (f32.max (f32x4.extract_lane 2 (local.get $mx)) (f32x4.extract_lane 3 (local.get $mx)))))
    (local.set $cnt (i32.add (i32.add (i32x4.extract_lane 0 (local.get $nz)) (i32x4.extract_lane 1 (local.get $nz)))
                             (i32.add (i32x4.extract_lane 2 (local.get $nz)) (i32x4.extract_lane 3 (local.get $nz)))))
    (local.set $neg (i32.add (i32.add (i32x4.extract_lane 0 (local.get $ng)) (i32x4.extract_lane 1 (local.get $ng)))
                             (i32.add (i32x4.extract_lane 2 (local.get $ng)) (i32x4.extract_lane 3 (local.get $ng)))))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f32.load (local.get $p)))
        (local.set $s (f64.add (local.get $s) (f64.promote_f32 (local.get $x))))
        (local.set $lo (f32.min (local.get $lo) (local.get $x)))
        (local.set $hi (f32.max (local.get $hi) (local.get $x)))
        (local.set $cnt (i32.add (local.get $cnt) (f32.ne (local.get $x) (f32.const 0))))
        (local.set $neg (i32.add (local.get $neg) (f32.lt (local.get $x) (f32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $t)))
    (f64.store (local.get $out) (local.get $s))
    (f64.store offset=8 (local.get $out) (f64.promote_f32 (local.get $lo)))
    (f64.store offset=16 (local.get $out) (f64.promote_f32 (local.get $hi)))
    (f64.store offset=24 (local.get $out) (f64.convert_i32_u (local.get $cnt)))
    (f64.store offset=32 (local.get $out) (f64.convert_i32_u (local.get $neg))))

  ;; bin(p, n, binOf, mean, lo, scale, fine, lastFine) -> the sum of squared deviations from mean. Each element's fine
  ;; bin, trunc((v - lo) * scale) capped at lastFine (the same float64 arithmetic as tensorStats.ts, so the same bin), is
  ;; stored at binOf (u16 per element) and counted in fine (i32 per bin). Only for tensors whose elements are all finite.
  (func (export "bin") (param $p i32) (param $n i32) (param $b i32) (param $mean f64) (param $lo f64) (param $scale f64)
        (param $fine i32) (param $last i32) (result f64)
    (local $end i32) (local $v f64) (local $d f64) (local $m2 f64) (local $f i32) (local $a i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f64.promote_f32 (f32.load (local.get $p))))
        (local.set $d (f64.sub (local.get $v) (local.get $mean)))
        (local.set $m2 (f64.add (local.get $m2) (f64.mul (local.get $d) (local.get $d))))
        (local.set $f (i32.trunc_sat_f64_s (f64.mul (f64.sub (local.get $v) (local.get $lo)) (local.get $scale))))
        (local.set $f (select (local.get $last) (local.get $f) (i32.gt_s (local.get $f) (local.get $last))))
        (i32.store16 (local.get $b) (local.get $f))
        (local.set $a (i32.add (local.get $fine) (i32.shl (local.get $f) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 2)))
        (br $l)))
    (local.get $m2))

  ;; gather(p, n, binOf, slotOf, cursor, out): copies each element whose fine bin has a slot (slotOf is an i8 per bin
  ;; number, -1 for none) to out[cursor[slot]++] (float32), so that each gathered bin's elements end up contiguous.
  (func (export "gather") (param $p i32) (param $n i32) (param $b i32) (param $slotOf i32) (param $cursor i32) (param $out i32)
    (local $end i32) (local $s i32) (local $c i32) (local $a i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s (i32.load8_s (i32.add (local.get $slotOf) (i32.load16_u (local.get $b)))))
        (if (i32.ge_s (local.get $s) (i32.const 0))
          (then
            (local.set $a (i32.add (local.get $cursor) (i32.shl (local.get $s) (i32.const 2))))
            (local.set $c (i32.load (local.get $a)))
            (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))) (f32.load (local.get $p)))
            (i32.store (local.get $a) (i32.add (local.get $c) (i32.const 1)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 2)))
        (br $l))))

  ;; sumsq(p, n) -> the sum of squares, in float64, of the finite elements among the n float32 at p (NaN and infinities
  ;; are left out, as l2Norm in gradStats.ts does). Two elements at a time in float64 lanes; an element is finite when
  ;; x - x is zero, so the mask from that comparison zeroes the square of any other.
  (func (export "sumsq") (param $p i32) (param $n i32) (result f64)
    (local $end i32) (local $end4 i32) (local $v v128) (local $x v128) (local $acc v128) (local $s f64) (local $y f64)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end4)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $x (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $acc (f64x2.add (local.get $acc)
          (v128.and (f64x2.mul (local.get $x) (local.get $x))
                    (f64x2.eq (f64x2.sub (local.get $x) (local.get $x)) (f64x2.splat (f64.const 0))))))
        (local.set $x (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $acc (f64x2.add (local.get $acc)
          (v128.and (f64x2.mul (local.get $x) (local.get $x))
                    (f64x2.eq (f64x2.sub (local.get $x) (local.get $x)) (f64x2.splat (f64.const 0))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $l)))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $y (f64.promote_f32 (f32.load (local.get $p))))
        (if (f64.eq (f64.sub (local.get $y) (local.get $y)) (f64.const 0))
          (then (local.set $s (f64.add (local.get $s) (f64.mul (local.get $y) (local.get $y))))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $t)))
    (local.get $s))
)
