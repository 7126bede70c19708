package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of BenchOptions.
const (
	DefaultBenchConcurrency = 16
	DefaultBenchRequests    = 5000            // per phase
	DefaultBenchDuration    = 5 * time.Second // per phase, whichever comes first
	DefaultBenchRounds      = 3               // slices per phase, alternating with the other phases
)

// BenchOptions configure RunBench.
type BenchOptions struct {
	// JS is connected to the server under test. RunBench ensures StreamName
	// (R1) and writes every request of the raw and full phases into it: use
	// a throwaway server (see StartEmbeddedNATS).
	JS jetstream.JetStream
	// Seeds are callback bodies (JSON objects, e.g. the fixtures); request i
	// sends Seeds[i%len(Seeds)] with a unique envelope id appended, so no
	// request is a duplicate.
	Seeds [][]byte
	// Concurrency is the number of concurrent clients; default 16.
	Concurrency int
	// Requests bounds each phase; default 5000.
	Requests int
	// Duration bounds each phase; default 5 s.
	Duration time.Duration
	// Rounds splits each phase into that many slices, run in turn with the
	// slices of the other phases, so a change in background load affects
	// every phase alike; default 3.
	Rounds int
	// Label names the run in the printed table (e.g. "always").
	Label string
	// SyncAlways says the server fsyncs every message (sync_always), so the
	// best one-message-per-fsync raw rate is the per-message fsync rate.
	SyncAlways bool
}

// BenchPhase is the measurement of one phase.
type BenchPhase struct {
	Name     string
	Requests int           // completed with success
	Errors   int           // failed (publish error or non-200)
	Elapsed  time.Duration // wall time of the phase
	PerSec   float64       // Requests / Elapsed
	P50, P99 time.Duration // latency of successful requests
	// CPU is the process's CPU time per successful request (client, server
	// and embedded NATS alike): steadier than the rates on a shared machine.
	CPU time.Duration
}

// BenchResult holds the phases of one run and the efficiency of the full path.
type BenchResult struct {
	Label      string
	SyncAlways bool
	// Raw are goroutines publishing straight to JetStream, one phase per
	// publish mode; J is the best of them (the storage limit). Group commit
	// by atomic batches is not among them: see README.md, "Performance".
	Raw     []BenchPhase
	J       BenchPhase
	Ceiling BenchPhase // the same HTTP server and client, handler only reads the body (H)
	Full    BenchPhase // the real Handler over loopback HTTP
	// Ratio is Full.PerSec / (1 / (1/J + 1/H)): 1 means the ingest path costs
	// nothing beyond doing an HTTP exchange and a JetStream publish in series.
	Ratio float64
	// FsyncRate is, with SyncAlways, J: every raw mode stores one message
	// per fsync, so it is the per-message fsync rate;
	// FsyncMultiple is Full.PerSec / FsyncRate.
	FsyncRate, FsyncMultiple float64
}

// rawMode is one way of publishing straight to JetStream; each stores one
// message per fsync under sync_always.
type rawMode struct {
	name    string
	publish func(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error
}

var rawModes = []rawMode{
	{name: "raw sync", publish: func(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
		_, err := js.PublishMsg(ctx, m, jetstream.WithExpectStream(StreamName))
		return err
	}},
	{name: "raw async", publish: func(ctx context.Context, js jetstream.JetStream, m *nats.Msg) error {
		f, err := js.PublishMsgAsync(m, jetstream.WithExpectStream(StreamName))
		if err != nil {
			return err
		}
		select {
		case <-f.Ok():
			return nil
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}},
}

// RunBench measures, in one run and on loopback only, the raw JetStream
// publish rate of each publish mode, the HTTP ceiling and the full ingest
// path, each bounded by Requests and Duration. It returns the first setup
// error; request failures are counted, not returned.
func RunBench(ctx context.Context, o BenchOptions) (BenchResult, error) {
	if o.JS == nil || len(o.Seeds) == 0 {
		return BenchResult{}, errors.New("bench: JS and Seeds are required")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultBenchConcurrency
	}
	if o.Requests <= 0 {
		o.Requests = DefaultBenchRequests
	}
	if o.Duration <= 0 {
		o.Duration = DefaultBenchDuration
	}
	if o.Rounds <= 0 {
		o.Rounds = DefaultBenchRounds
	}
	if _, err := EnsureStream(ctx, o.JS, 1); err != nil {
		return BenchResult{}, fmt.Errorf("bench: %w", err)
	}
	run := time.Now().UnixNano()
	body := func(phase, i int) []byte { return benchBody(o.Seeds[i%len(o.Seeds)], run, phase, i) }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Each phase is a runner of one slice; slices of all phases alternate,
	// Rounds times, so a change in background load hits every phase alike.
	type runner struct {
		name  string
		raw   *rawMode
		slice func(ctx context.Context, s sliceOptions) (benchSample, error)
	}
	var runners []runner
	for k := range rawModes {
		mode := &rawModes[k]
		runners = append(runners, runner{name: mode.name, raw: mode, slice: func(ctx context.Context, s sliceOptions) (benchSample, error) {
			return benchSlice(ctx, s, func(ctx context.Context, i int) error {
				m := &nats.Msg{Subject: "xportcn.cb.unknown.BENCH_RAW._", Data: body(10+k, i), Header: nats.Header{}}
				m.Header.Set(HeaderReceiptID, strconv.Itoa(i))
				m.Header.Set(HeaderReceivedAt, time.Now().UTC().Format(time.RFC3339Nano))
				m.Header.Set(HeaderSignature, string(ResultOff))
				m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("bench-%d-%d-%d", run, k, i))
				return mode.publish(ctx, o.JS, m)
			}), nil
		}})
	}
	ceiling := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			writeError(w, CodeBadRequest, "body could not be read")
			return
		}
		writeSuccess(w, "")
	})
	runners = append(runners, runner{name: "ceiling", slice: func(ctx context.Context, s sliceOptions) (benchSample, error) {
		return benchHTTP(ctx, s, ceiling, func(i int) []byte { return body(1, i) })
	}})
	runners = append(runners, runner{name: "full", slice: func(ctx context.Context, s sliceOptions) (benchSample, error) {
		h, err := New(Config{JS: o.JS, MaxInFlight: 4 * o.Concurrency, Logger: quiet})
		if err != nil {
			return benchSample{}, err
		}
		smp, err := benchHTTP(ctx, s, h, func(i int) []byte { return body(2, i) })
		if cerr := h.Close(ctx); cerr != nil && err == nil {
			err = cerr
		}
		return smp, err
	}})

	samples := make([]benchSample, len(runners))
	perRound := max(1, o.Requests/o.Rounds)
	for r := range o.Rounds {
		for k, rn := range runners {
			s := sliceOptions{concurrency: o.Concurrency, first: r * perRound, requests: perRound, duration: o.Duration / time.Duration(o.Rounds)}
			var smp benchSample
			var err error
			// Labelled, so that a CPU profile (--cpuprofile) can be cut by
			// phase: go tool pprof -tagfocus phase=full. Goroutines started
			// here carry the label; the NATS client's and server's do not.
			pprof.Do(ctx, pprof.Labels("phase", rn.name), func(ctx context.Context) { smp, err = rn.slice(ctx, s) })
			if err != nil {
				return BenchResult{}, fmt.Errorf("bench %s: %w", rn.name, err)
			}
			samples[k].add(smp)
		}
	}

	res := BenchResult{Label: o.Label, SyncAlways: o.SyncAlways}
	for k, rn := range runners {
		p := samples[k].phase(rn.name)
		switch {
		case rn.raw != nil:
			res.Raw = append(res.Raw, p)
			if p.PerSec > res.J.PerSec {
				res.J = p
			}
		case rn.name == "ceiling":
			res.Ceiling = p
		default:
			res.Full = p
		}
	}
	if res.J.PerSec > 0 && res.Ceiling.PerSec > 0 {
		res.Ratio = res.Full.PerSec * (1/res.J.PerSec + 1/res.Ceiling.PerSec)
	}
	if o.SyncAlways && res.J.PerSec > 0 {
		res.FsyncRate = res.J.PerSec
		res.FsyncMultiple = res.Full.PerSec / res.FsyncRate
	}
	return res, nil
}

// sliceOptions bound one slice of a phase: request indexes first.. (at
// most requests of them), for at most duration.
type sliceOptions struct {
	concurrency int
	first       int
	requests    int
	duration    time.Duration
}

// benchSample is what slices of one phase measured.
type benchSample struct {
	lat     []time.Duration // of successful requests
	errs    int
	elapsed time.Duration
	cpu     time.Duration // the process's CPU time
}

func (s *benchSample) add(o benchSample) {
	s.lat = append(s.lat, o.lat...)
	s.errs += o.errs
	s.elapsed += o.elapsed
	s.cpu += o.cpu
}

func (s *benchSample) phase(name string) BenchPhase {
	p := BenchPhase{Name: name, Requests: len(s.lat), Errors: s.errs, Elapsed: s.elapsed}
	if p.Elapsed > 0 {
		p.PerSec = float64(p.Requests) / p.Elapsed.Seconds()
	}
	if len(s.lat) > 0 {
		p.CPU = s.cpu / time.Duration(len(s.lat))
		slices.Sort(s.lat)
		p.P50 = s.lat[len(s.lat)*50/100]
		p.P99 = s.lat[min(len(s.lat)-1, len(s.lat)*99/100)]
	}
	return p
}

// benchHTTP serves handler on a loopback listener with NewHTTPServer's
// settings and posts to it.
func benchHTTP(ctx context.Context, s sliceOptions, handler http.Handler, body func(int) []byte) (benchSample, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return benchSample{}, err
	}
	srv := NewHTTPServer("", handler)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tr := &http.Transport{MaxIdleConns: s.concurrency, MaxIdleConnsPerHost: s.concurrency, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	url := "http://" + ln.Addr().String() + CallbackPath
	smp := benchSlice(ctx, s, func(ctx context.Context, i int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body(i)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	tr.CloseIdleConnections()
	if err := srv.Shutdown(ctx); err != nil {
		return smp, fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return smp, fmt.Errorf("serve: %w", err)
	}
	return smp, nil
}

// benchSlice runs fn for indexes s.first.. with s.concurrency workers until
// s.requests are issued, s.duration passes or ctx ends.
func benchSlice(ctx context.Context, s sliceOptions, fn func(context.Context, int) error) benchSample {
	ctx, cancel := context.WithTimeout(ctx, s.duration)
	defer cancel()
	var (
		next atomic.Int64
		mu   sync.Mutex
		smp  = benchSample{lat: make([]time.Duration, 0, min(s.requests, 1<<16))}
		wg   sync.WaitGroup
	)
	start, cpu := time.Now(), processCPU()
	for range s.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(s.requests) {
					return
				}
				t0 := time.Now()
				err := fn(ctx, s.first+int(i))
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						smp.errs++
					}
				} else {
					smp.lat = append(smp.lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	smp.elapsed, smp.cpu = time.Since(start), processCPU()-cpu
	return smp
}

// benchBody appends a unique envelope id to seed (a JSON object). A later
// duplicate key wins in Go's and most decoders, so the seed's own id is
// overridden.
func benchBody(seed []byte, run int64, phase, i int) []byte {
	s := bytes.TrimRight(seed, " \t\r\n")
	if len(s) == 0 || s[len(s)-1] != '}' {
		return seed
	}
	var b bytes.Buffer
	b.Grow(len(s) + 48)
	b.Write(s[:len(s)-1])
	fmt.Fprintf(&b, `,"id":"b%d-%d-%d"}`, run, phase, i)
	return b.Bytes()
}

// PrintBench writes the results of one or more runs as one aligned table:
// the ratio column marks J and H and gives Ratio on the full row; with
// SyncAlways a line per run gives the per-message fsync rate and
// FsyncMultiple.
func PrintBench(out io.Writer, results []BenchResult) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "sync\tphase\trequests\terrors\treq/s\tp50\tp99\tCPU/req\tratio\t\n")
	for _, r := range results {
		for _, p := range slices.Concat(r.Raw, []BenchPhase{r.Ceiling, r.Full}) {
			mark := ""
			switch {
			case p.Name == r.J.Name:
				mark = "J"
			case p.Name == r.Ceiling.Name:
				mark = "H"
			case p.Name == r.Full.Name:
				mark = fmt.Sprintf("%.2f", r.Ratio)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%v\t%v\t%v\t%s\t\n", r.Label, p.Name, p.Requests, p.Errors, p.PerSec,
				p.P50.Round(10*time.Microsecond), p.P99.Round(10*time.Microsecond), p.CPU.Round(time.Microsecond), mark)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: print: %w", err)
	}
	if _, err := fmt.Fprintln(out, "ratio = req/s / (1/(1/J + 1/H)), J = best raw mode of the run, H = ceiling"); err != nil {
		return fmt.Errorf("bench: print: %w", err)
	}
	for _, r := range results {
		if !r.SyncAlways {
			continue
		}
		if _, err := fmt.Fprintf(out, "%s: per-message fsync rate %.0f/s (best raw mode, one message per fsync); full = %.2fx that\n",
			r.Label, r.FsyncRate, r.FsyncMultiple); err != nil {
			return fmt.Errorf("bench: print: %w", err)
		}
	}
	return nil
}

// processCPU returns the CPU time (user and system) the process has used, 0
// where it cannot be read.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
