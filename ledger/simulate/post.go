package simulate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Stats count what Post did.
type Stats struct {
	Sent     int64         // requests completed (any status)
	OK       int64         // answered 200
	Rejected int64         // answered anything else
	Errors   int64         // transport errors (no answer)
	Elapsed  time.Duration // wall time of the whole run
}

// PostTimeout is Xportcn's documented deadline for an answer: a slower
// answer counts as a failure.
const PostTimeout = 1000 * time.Millisecond

// Post sends every delivery of a simulation to url as Xportcn would (POST,
// Content-Type application/json, PostTimeout per request), with up to
// concurrency requests in flight, in delivery order of dispatch. It does not
// retry: the simulation already contains the retries. It stops early when
// ctx is cancelled and returns the stats so far with ctx's error; a request
// that fails is counted, not returned. progress, when not nil, is called
// after every request with the number done so far (answered or not) and how
// many of those were not answered 200 (another status, or no answer), from
// the posting goroutines, possibly at once.
func Post(ctx context.Context, url string, opts Options, concurrency int, progress func(done, failed int64)) (Stats, error) {
	if concurrency < 1 {
		concurrency = 1
	}
	client := &http.Client{Timeout: PostTimeout}
	var st Stats
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	work := make(chan []byte)
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range work {
				ok := post(ctx, client, url, body, &st)
				if !ok {
					failed.Add(1)
				}
				if progress != nil {
					progress(done.Add(1), failed.Load())
				}
			}
		}()
	}
	start := time.Now()
	err := Each(opts, func(c Callback) error {
		select {
		case work <- c.Body:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(work)
	wg.Wait()
	st.Elapsed = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("post %s: %w", url, err)
	}
	return st, nil
}

// post sends one callback and counts its outcome in st; ok: answered 200.
func post(ctx context.Context, client *http.Client, url string, body []byte, st *Stats) (ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		atomic.AddInt64(&st.Errors, 1)
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		atomic.AddInt64(&st.Errors, 1)
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drain so the connection is reused
	resp.Body.Close()
	atomic.AddInt64(&st.Sent, 1)
	if resp.StatusCode == http.StatusOK {
		atomic.AddInt64(&st.OK, 1)
		return true
	}
	atomic.AddInt64(&st.Rejected, 1)
	return false
}
