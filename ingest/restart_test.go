package ingest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"refundledger/ingest"
)

// TestNATSRestartUnderLoad stops and restarts the NATS server (same store,
// same port) while clients post callbacks. Every answer must come within the
// sender's 1000 ms, be 200 or 503, and every 200 must be in the stream
// afterwards; ingest must recover by itself.
func TestNATSRestartUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("restart under load takes a few seconds")
	}
	env := mustStartNATS(t)
	port := env.srv.Addr().(*net.TCPAddr).Port
	h := mustNewHandler(t, ingest.Config{JS: env.js, PublishTimeout: 400 * time.Millisecond})
	web := httptest.NewServer(h)
	defer web.Close()

	type result struct {
		status  int
		receipt string
		sent    time.Time
		took    time.Duration
	}
	const workers = 6
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := web.Client()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"messageType":"ORDER_CREATE","messageBody":{"orderId":"%d"},"messagePlatform":1,"id":%d}`, i, w*1_000_000+i)
				start := time.Now()
				resp, err := client.Post(web.URL, "application/json", strings.NewReader(body))
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				a := decodeAnswer(t, resp.StatusCode, resp.Header, raw, "POST")
				mu.Lock()
				results = append(results, result{a.status, a.success.ReceiptID, start, time.Since(start)})
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}

	time.Sleep(700 * time.Millisecond)
	env.srv.Shutdown()
	env.srv.WaitForShutdown()
	time.Sleep(600 * time.Millisecond)
	srv2, err := ingest.StartEmbeddedNATS(ingest.EmbeddedOptions{StoreDir: env.dir, Port: port})
	if err != nil {
		close(stop)
		wg.Wait()
		t.Fatal(err)
	}
	restarted := time.Now()
	t.Cleanup(func() { srv2.Shutdown(); srv2.WaitForShutdown() })
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()

	stored := map[string]bool{}
	for _, m := range env.stored(t) {
		stored[m.Header.Get(ingest.HeaderReceiptID)] = true
	}
	var ok, unavailable, okAfter int
	for _, r := range results {
		if r.took > time.Second {
			t.Errorf("answer %d took %v, over the sender's 1000 ms", r.status, r.took)
		}
		switch r.status {
		case http.StatusOK:
			ok++
			if !stored[r.receipt] {
				t.Errorf("receipt %s answered 200 but not in the stream", r.receipt)
			}
			if r.sent.After(restarted) {
				okAfter++
			}
		case http.StatusServiceUnavailable:
			unavailable++
		default:
			t.Errorf("status %d", r.status)
		}
	}
	t.Logf("%d requests: %d ok (%d after restart), %d unavailable; %d stored", len(results), ok, okAfter, unavailable, len(stored))
	if unavailable == 0 {
		t.Error("no 503 while NATS was down")
	}
	if okAfter == 0 {
		t.Error("ingest did not recover after the restart")
	}
}
