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
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
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
)

// BenchOptions configure RunBench.
type BenchOptions struct {
	// JS is connected to the server under test. RunBench ensures StreamName
	// (R1) and writes Requests×2 messages into it: use a throwaway server
	// (see StartEmbeddedNATS).
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
	// Label names the run in the printed table (e.g. "sync=always").
	Label string
}

// BenchPhase is the measurement of one phase.
type BenchPhase struct {
	Name     string
	Requests int           // completed with success
	Errors   int           // failed (publish error or non-200)
	Elapsed  time.Duration // wall time of the phase
	PerSec   float64       // Requests / Elapsed
	P50, P99 time.Duration // latency of successful requests
}

// BenchResult holds the three phases and the efficiency of the full path.
type BenchResult struct {
	Raw     BenchPhase // goroutines publishing straight to JetStream (J)
	Ceiling BenchPhase // the same HTTP server and client, handler only reads the body (H)
	Full    BenchPhase // the real Handler over loopback HTTP
	// Ratio is Full.PerSec / (1 / (1/J + 1/H)): 1 means the ingest path costs
	// nothing beyond doing an HTTP exchange and a JetStream publish in series.
	Ratio float64
}

// RunBench measures, in one run and on loopback only, the raw JetStream
// publish rate, the HTTP ceiling and the full ingest path, each bounded by
// Requests and Duration, and prints an aligned table to out. It returns the
// first setup error; request failures are counted, not returned.
func RunBench(ctx context.Context, o BenchOptions, out io.Writer) (BenchResult, error) {
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
	if _, err := EnsureStream(ctx, o.JS, 1); err != nil {
		return BenchResult{}, fmt.Errorf("bench: %w", err)
	}
	run := time.Now().UnixNano()
	body := func(phase, i int) []byte { return benchBody(o.Seeds[i%len(o.Seeds)], run, phase, i) }

	var res BenchResult
	res.Raw = benchPhase(ctx, "raw", o, func(ctx context.Context, i int) error {
		b := body(0, i)
		m := &nats.Msg{Subject: "xportcn.cb.unknown.BENCH_RAW._", Data: b, Header: nats.Header{}}
		m.Header.Set(HeaderReceiptID, strconv.Itoa(i))
		m.Header.Set(HeaderReceivedAt, time.Now().UTC().Format(time.RFC3339Nano))
		m.Header.Set(HeaderSignature, string(ResultOff))
		m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("bench-%d-%d", run, i))
		_, err := o.JS.PublishMsg(ctx, m, jetstream.WithExpectStream(StreamName))
		return err
	})

	ceiling := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			writeError(w, CodeBadRequest, "body could not be read")
			return
		}
		writeSuccess(w, "")
	})
	var err error
	res.Ceiling, err = benchHTTP(ctx, "ceiling", o, ceiling, func(i int) []byte { return body(1, i) })
	if err != nil {
		return res, err
	}

	h, err := New(Config{JS: o.JS, MaxInFlight: 4 * o.Concurrency, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return res, fmt.Errorf("bench: %w", err)
	}
	res.Full, err = benchHTTP(ctx, "full", o, h, func(i int) []byte { return body(2, i) })
	if cerr := h.Close(ctx); cerr != nil && err == nil {
		err = fmt.Errorf("bench: %w", cerr)
	}
	if err != nil {
		return res, err
	}
	if res.Raw.PerSec > 0 && res.Ceiling.PerSec > 0 {
		res.Ratio = res.Full.PerSec * (1/res.Raw.PerSec + 1/res.Ceiling.PerSec)
	}
	return res, printBench(out, o, res)
}

// benchHTTP serves handler on a loopback listener with NewHTTPServer's
// settings and posts to it.
func benchHTTP(ctx context.Context, name string, o BenchOptions, handler http.Handler, body func(int) []byte) (BenchPhase, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return BenchPhase{}, fmt.Errorf("bench %s: %w", name, err)
	}
	srv := NewHTTPServer("", handler)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tr := &http.Transport{MaxIdleConns: o.Concurrency, MaxIdleConnsPerHost: o.Concurrency, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	url := "http://" + ln.Addr().String() + "/callbacks/xportcn"
	p := benchPhase(ctx, name, o, func(ctx context.Context, i int) error {
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
		return p, fmt.Errorf("bench %s: shutdown: %w", name, err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return p, fmt.Errorf("bench %s: serve: %w", name, err)
	}
	return p, nil
}

// benchPhase runs fn for indexes 0.. with o.Concurrency workers until
// o.Requests are issued, o.Duration passes or ctx ends.
func benchPhase(ctx context.Context, name string, o BenchOptions, fn func(context.Context, int) error) BenchPhase {
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, o.Requests)
		errs   int
		wg     sync.WaitGroup
		issued = int64(o.Requests)
	)
	start := time.Now()
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= issued {
					return
				}
				t0 := time.Now()
				err := fn(ctx, int(i))
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil {
						errs++
					}
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	p := BenchPhase{Name: name, Requests: len(lat), Errors: errs, Elapsed: time.Since(start)}
	if p.Elapsed > 0 {
		p.PerSec = float64(p.Requests) / p.Elapsed.Seconds()
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		p.P50 = lat[len(lat)*50/100]
		p.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return p
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

func printBench(out io.Writer, o BenchOptions, r BenchResult) error {
	if _, err := fmt.Fprintf(out, "ingest bench %s, concurrency %d\n", o.Label, o.Concurrency); err != nil {
		return fmt.Errorf("bench: print: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "phase\trequests\terrors\treq/s\tp50\tp99\t\n")
	for _, p := range []BenchPhase{r.Raw, r.Ceiling, r.Full} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%v\t%v\t\n", p.Name, p.Requests, p.Errors, p.PerSec,
			p.P50.Round(time.Microsecond), p.P99.Round(time.Microsecond))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: print: %w", err)
	}
	if _, err := fmt.Fprintf(out, "full / (1/(1/raw + 1/ceiling)) = %.2f\n", r.Ratio); err != nil {
		return fmt.Errorf("bench: print: %w", err)
	}
	return nil
}
