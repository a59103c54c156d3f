// main.go - the client_golang harness of the vitals comparison: the workloads of
// bench/compare/README.md written against github.com/prometheus/client_golang,
// one workload per process, printed as JSON rows like the vitals harness.
//
// Usage: client_golang-compare run WORKLOAD [--quick] | serve PORT | list
//
// Built offline in GOPATH mode from Debian's Go source tree by
// bench/compare/run.py. Timed sections run in the process's CPU time; the
// contended workload runs two goroutines (GOMAXPROCS is the machine's cores),
// each timed in its own thread's CPU time, and also reports the wall time from
// their common release until both finish.
//
// SPDX-License-Identifier: MIT
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

const (
	lib         = "client_golang"
	calibrateNs = 50e6
	measureNs   = 200e6
	quickOps    = 20000
	warmupOps   = 100000
	nValues     = 1024
)

// ---- rows and timing, the same in every Go harness ----

func row(name, unit string, value float64) {
	b, _ := json.Marshal(map[string]interface{}{"lib": lib, "name": name, "unit": unit, "value": value})
	fmt.Println(string(b))
}

func fail(what string, err error) int {
	fmt.Fprintf(os.Stderr, "%s-compare: %s: %v\n", lib, what, err)
	return 1
}

// measure doubles n until one run lasts calibrateNs (the warm-up), then runs
// about measureNs once; returns the ns and operations of that run.
func measure(loop func(n int) time.Duration, quick bool) (float64, int) {
	n := 1000
	if quick {
		n = quickOps
	}
	d := float64(loop(n))
	if quick {
		return d, n
	}
	for d < calibrateNs {
		if d < calibrateNs/16 {
			n *= 8
		} else {
			n *= 2
		}
		d = float64(loop(n))
	}
	n = int(float64(n)*measureNs/d) + 1
	return float64(loop(n)), n
}

func perOpRow(name string, loop func(n int) time.Duration, quick bool) {
	ns, n := measure(loop, quick)
	row(name, "ns/op", ns/float64(n))
}

// cpuClock is the process's CPU time: every timed section of one goroutine is
// measured in it, as in every harness, so that time the scheduler gives to
// other processes is not charged to the library (GC work on other threads is).
func cpuClock() time.Duration {
	return time.Duration(cpuNs())
}

func cpuNs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's CPU time.
const rusageThread = 1

func threadCPUNs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(rusageThread, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

// twoGoroutines runs work(n) on two goroutines released together, each locked
// to its OS thread so that the thread's CPU time is the goroutine's. Returns
// the wall time until both finished, the mean CPU ns of the two timed loops,
// and the process's CPU time over the wall time.
func twoGoroutines(work func(n int), n int) (time.Duration, float64, float64) {
	var ready, done sync.WaitGroup
	var gate int32
	var cpu [2]float64
	ready.Add(2)
	done.Add(2)
	for g := 0; g < 2; g++ {
		go func(g int) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			w := n
			if w > warmupOps {
				w = warmupOps
			}
			work(w)
			ready.Done()
			for atomic.LoadInt32(&gate) == 0 {
				runtime.Gosched()
			}
			c0 := threadCPUNs()
			work(n)
			cpu[g] = threadCPUNs() - c0
			done.Done()
		}(g)
	}
	ready.Wait()
	c0, t0 := cpuNs(), time.Now()
	atomic.StoreInt32(&gate, 1)
	done.Wait()
	wall := time.Since(t0)
	return wall, (cpu[0] + cpu[1]) / 2, (cpuNs() - c0) / float64(wall)
}

func residentBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return -1
	}
	return float64(resident * int64(os.Getpagesize()))
}

// observation values: log-uniform 1 ms .. 20 s from the xorshift sequence of
// every harness.
func fillValues() []float64 {
	v := make([]float64, nValues)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range v {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		u := float64(x>>11) / 9007199254740992.0
		v[i] = 0.001 * math.Pow(20000, u)
	}
	return v
}

// the 12 label sets of labeled_inc: method, path, code.
func combos() [][3]string {
	var out [][3]string
	for _, m := range []string{"GET", "POST"} {
		for _, p := range []string{"/reservations/:user_id", "/reservations", "/health"} {
			for _, c := range []string{"200", "404"} {
				out = append(out, [3]string{m, p, c})
			}
		}
	}
	return out
}

var (
	scrapeMethods = []string{"GET", "POST", "PUT", "DELETE"}
	scrapeCodes   = []string{"200", "201", "400", "404", "500"}
)

// the i-th label set of a scrape family: method, path, code.
func scrapeLabels(i int) (string, string, string) {
	return scrapeMethods[i%4], fmt.Sprintf("/api/v1/route%02d/:id", (i/20)%50), scrapeCodes[(i/4)%5]
}

func scrapeCounterValue(i, fam int) uint64 {
	return 1 + (uint64(uint32(i)*2654435761)+uint64(fam))%1000003
}

func scrapeObservation(i, k int) float64 {
	u := float64((k*7+i)%16) / 15
	return 0.001 * math.Pow(20000, u)
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

var plainCounter uint64
var plainPtr = &plainCounter
var atomicCounter uint64

func refs(quick bool) int {
	perOpRow("ref_plain_inc", func(n int) time.Duration {
		p := plainPtr
		t0 := cpuClock()
		for i := 0; i < n; i++ {
			*p++
		}
		return cpuClock() - t0
	}, quick)
	perOpRow("ref_atomic_inc", func(n int) time.Duration {
		t0 := cpuClock()
		for i := 0; i < n; i++ {
			atomic.AddUint64(&atomicCounter, 1)
		}
		return cpuClock() - t0
	}, quick)
	var cpu float64
	_, n := measure(func(n int) time.Duration {
		d, c, _ := twoGoroutines(func(k int) {
			for i := 0; i < k; i++ {
				atomic.AddUint64(&atomicCounter, 1)
			}
		}, n)
		cpu = c
		return d
	}, quick)
	row("ref_atomic_contended", "ns/op/thread", cpu/float64(n))
	return 0
}

func contended(inc func(), quick bool) int {
	var cpu, cores float64
	ns, n := measure(func(n int) time.Duration {
		d, c, share := twoGoroutines(func(k int) {
			for i := 0; i < k; i++ {
				inc()
			}
		}, n)
		cpu, cores = c, share
		return d
	}, quick)
	row("contended_inc", "ns/op/thread", cpu/float64(n))
	row("contended_inc_mops", "Mops/s", 2*float64(n)/ns*1e3)
	row("contended_cores", "cpu/wall", cores)
	return 0
}

func expose(write func(w io.Writer) error, quick bool) int {
	var w countingWriter
	if err := write(&w); err != nil {
		return fail("write", err)
	}
	scrapes := 0
	t0 := cpuClock()
	var d time.Duration
	for {
		w.n = 0
		if err := write(&w); err != nil {
			return fail("write", err)
		}
		scrapes++
		d = cpuClock() - t0
		if quick || (scrapes >= 3 && float64(d) >= measureNs) {
			break
		}
	}
	per := float64(d) / float64(scrapes)
	row("expose", "ms", per/1e6)
	row("expose_bytes", "bytes", float64(w.n))
	row("expose_mbps", "MB/s", float64(w.n)/per*1e3)
	return 0
}

// serve answers GET /metrics on 127.0.0.1:port until stdin reaches EOF.
func serve(port int, h http.Handler) int {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fail("listen", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	go http.Serve(ln, mux)
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}

func main() {
	workloads := map[string]func(bool) int{
		"ref": refs, "counter_inc": counterInc, "labeled_inc": labeledInc,
		"histogram_observe": histogramObserve, "summary_observe": summaryObserve,
		"contended_inc": contendedInc,
		"expose":        exposeRun, "memory": memory,
	}
	args := os.Args[1:]
	switch {
	case len(args) == 1 && args[0] == "list":
		for _, w := range []string{"ref", "counter_inc", "labeled_inc", "histogram_observe",
			"summary_observe", "contended_inc", "expose", "memory"} {
			fmt.Println(w)
		}
		return
	case len(args) == 2 && args[0] == "serve":
		if port, err := strconv.Atoi(args[1]); err == nil && port > 0 && port < 65536 {
			os.Exit(serveRun(port))
		}
	case (len(args) == 2 || len(args) == 3) && args[0] == "run":
		quick := len(args) == 3 && args[2] == "--quick"
		if f, ok := workloads[args[1]]; ok && (len(args) == 2 || quick) {
			os.Exit(f(quick))
		}
	}
	fmt.Fprintf(os.Stderr, "usage: %s-compare run WORKLOAD [--quick] | serve PORT | list\n", lib)
	os.Exit(2)
}

// ---- the workloads against client_golang ----

func counterInc(quick bool) int {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "bench_requests_total", Help: "Requests."})
	prometheus.NewRegistry().MustRegister(c)
	perOpRow("counter_inc", func(n int) time.Duration {
		t0 := cpuClock()
		for i := 0; i < n; i++ {
			c.Inc()
		}
		return cpuClock() - t0
	}, quick)
	return 0
}

func labeledInc(quick bool) int {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bench_http_requests_total", Help: "Requests."}, []string{"method", "path", "code"})
	prometheus.NewRegistry().MustRegister(vec)
	cs := combos()
	for _, c := range cs {
		vec.WithLabelValues(c[0], c[1], c[2])
	}
	perOpRow("labeled_inc", func(n int) time.Duration {
		k := 0
		t0 := cpuClock()
		for i := 0; i < n; i++ {
			c := &cs[k]
			vec.WithLabelValues(c[0], c[1], c[2]).Inc()
			if k++; k == len(cs) {
				k = 0
			}
		}
		return cpuClock() - t0
	}, quick)
	return 0
}

func histogramObserve(quick bool) int {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "bench_request_duration_seconds", Help: "Latency.", Buckets: prometheus.DefBuckets})
	prometheus.NewRegistry().MustRegister(h)
	v := fillValues()
	perOpRow("histogram_observe", func(n int) time.Duration {
		t0 := cpuClock()
		for i := 0; i < n; i++ {
			h.Observe(v[i&(nValues-1)])
		}
		return cpuClock() - t0
	}, quick)
	return 0
}

// summaryObserve: objectives 0.5, 0.9, 0.99 (the error each allows is
// client_golang's usual choice) over the default 10-minute window.
func summaryObserve(quick bool) int {
	sm := prometheus.NewSummary(prometheus.SummaryOpts{
		Name: "bench_request_duration_seconds", Help: "Latency.",
		Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}})
	prometheus.NewRegistry().MustRegister(sm)
	v := fillValues()
	perOpRow("summary_observe", func(n int) time.Duration {
		t0 := cpuClock()
		for i := 0; i < n; i++ {
			sm.Observe(v[i&(nValues-1)])
		}
		return cpuClock() - t0
	}, quick)
	return 0
}

func contendedInc(quick bool) int {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "bench_shared_total", Help: "Two threads."})
	prometheus.NewRegistry().MustRegister(c)
	return contended(c.Inc, quick)
}

func scrapeRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	labels := []string{"method", "path", "code"}
	for f := 0; f < 10; f++ {
		cv := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: fmt.Sprintf("bench_app%d_requests_total", f),
			Help: "Requests handled, by method, route and status code."}, labels)
		hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    fmt.Sprintf("bench_app%d_request_duration_seconds", f),
			Help:    "Request latency, by method, route and status code.",
			Buckets: prometheus.DefBuckets}, labels)
		reg.MustRegister(cv, hv)
		for i := 0; i < 1000; i++ {
			m, p, c := scrapeLabels(i)
			cv.WithLabelValues(m, p, c).Add(float64(scrapeCounterValue(i, f)))
		}
		for i := 0; i < 100; i++ {
			m, p, c := scrapeLabels(i)
			h := hv.WithLabelValues(m, p, c)
			for k := 0; k < 16; k++ {
				h.Observe(scrapeObservation(i, k))
			}
		}
	}
	return reg
}

// exposeRun writes the registry as promhttp does for a text scrape: Gather,
// then one text encoder over the families.
func exposeRun(quick bool) int {
	reg := scrapeRegistry()
	return expose(func(w io.Writer) error {
		mfs, err := reg.Gather()
		if err != nil {
			return err
		}
		enc := expfmt.NewEncoder(w, expfmt.FmtText)
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return err
			}
		}
		return nil
	}, quick)
}

func serveRun(port int) int {
	reg := scrapeRegistry()
	return serve(port, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// memory: series i is method i%4, path "/u/<i/20>" (a fresh string per series,
// as from a request), code (i/4)%5; each incremented once.
func memory(quick bool) int {
	n := 100000
	if quick {
		n = 2000
	}
	handles := make([]prometheus.Counter, n)
	for i := range handles {
		handles[i] = nil
	}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bench_created_total", Help: "Series created by the benchmark."},
		[]string{"method", "path", "code"})
	warm := prometheus.NewCounter(prometheus.CounterOpts{Name: "bench_warm_total", Help: "Warm."})
	reg := prometheus.NewRegistry()
	reg.MustRegister(vec, warm)
	warm.Inc()

	runtime.GC()
	rss0 := residentBytes()
	t0 := cpuClock()
	for i := 0; i < n; i++ {
		handles[i] = vec.WithLabelValues(scrapeMethods[i%4], "/u/"+strconv.Itoa(i/20),
			scrapeCodes[(i/4)%5])
	}
	d := cpuClock() - t0
	for _, h := range handles {
		h.Inc()
	}
	runtime.GC()
	rss1 := residentBytes()
	if rss0 < 0 || rss1 < 0 {
		return fail("rss", fmt.Errorf("cannot read /proc/self/statm"))
	}
	row("memory_per_series", "bytes", (rss1-rss0)/float64(n))
	row("create_series", "ms/100k", float64(d)/1e6*100000/float64(n))
	runtime.KeepAlive(handles)
	runtime.KeepAlive(reg)
	return 0
}
