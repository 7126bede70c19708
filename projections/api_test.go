package projections_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"refundledger/projections"
)

// mustAPI folds 40 refunds (statuses rotating) plus one duplicate delivery
// and serves the admin API over them.
func mustAPI(t *testing.T) *httptest.Server {
	t.Helper()
	e := mustEnv(t)
	statuses := []string{"waitselleragree", "refundsuccess", "refundclose", "waitbuyersend"}
	for i := range 40 {
		e.publish(t, variant(t, i, statuses[i%4]))
	}
	e.publish(t, variant(t, 0, statuses[0]), "Xportcn-Retry-Count", "2")
	p := e.runProjection(t)
	api := &projections.API{Projection: p, Logger: quiet(),
		LastSeq: func(context.Context) (uint64, error) { return e.lastSeq(t), nil }}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}

func TestAPI(t *testing.T) {
	srv := mustAPI(t)

	t.Run("ListPagesThroughEveryMatchOnce", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  int
		}{
			{"", 40}, {"platform=1688", 40}, {"platform=taobao", 0}, {"status=refundsuccess", 10},
			{"phase=pending_return", 10}, {"order=7000000000000000003", 1}, {"updatedSince=2024-01-10T02:29:23Z", 40},
			{"updatedSince=2024-01-10T02:29:24Z", 0}, {"status=refundclose&platform=1688", 10},
		} {
			seen := map[string]bool{}
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 50 {
					t.Fatalf("%s: pagination does not end", tc.query)
				}
				var page projections.RefundPage
				u := srv.URL + "/v1/refunds?limit=7&" + tc.query + "&cursor=" + url.QueryEscape(cursor)
				if code := getJSON(t, u, &page); code != 200 {
					t.Fatalf("%s: %d", u, code)
				}
				for _, r := range page.Refunds {
					if seen[r.RefundID] {
						t.Fatalf("%s: %s on two pages", tc.query, r.RefundID)
					}
					seen[r.RefundID] = true
				}
				if page.Next == "" {
					break
				}
				cursor = page.Next
			}
			if len(seen) != tc.want {
				t.Errorf("%s: %d refunds, want %d", tc.query, len(seen), tc.want)
			}
		}
	})

	t.Run("BadParametersAre400", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=abc", "limit=1001", "platform=amazon", "phase=nope", "updatedSince=yesterday", "colour=red", "cursor=zzzz", "cursor=not*base64", "status=a&status=b"} {
			var body struct {
				Error struct{ Code, Message string }
			}
			if code := getJSON(t, srv.URL+"/v1/refunds?"+q, &body); code != 400 || body.Error.Code != "bad_request" || body.Error.Message == "" {
				t.Errorf("%s: %d %+v", q, code, body)
			}
		}
	})

	t.Run("UnknownIs404", func(t *testing.T) {
		for _, p := range []string{"/v1/refunds/1688/TQ1", "/v1/refunds/1688/TQ1/history", "/v1/orders/1688/1", "/v1/nothing"} {
			var body struct{ Error struct{ Code string } }
			if code := getJSON(t, srv.URL+p, &body); code != 404 || body.Error.Code != "not_found" {
				t.Errorf("%s: %d %+v", p, code, body)
			}
		}
	})

	t.Run("HistoryShowsEveryDelivery", func(t *testing.T) {
		var h projections.History
		if code := getJSON(t, srv.URL+"/v1/refunds/1688/TQ900000/history", &h); code != 200 {
			t.Fatal(code)
		}
		if len(h.Deliveries) != 2 || h.Deliveries[0].Duplicate || !h.Deliveries[1].Duplicate ||
			h.Deliveries[1].RetryCount != 2 || h.Deliveries[0].Seq >= h.Deliveries[1].Seq || len(h.Operations) != 2 {
			t.Fatalf("history %+v", h)
		}
	})

	// Times are RFC 3339 everywhere (deliveries' too), and an empty list is
	// [], not null (an order seen only through its refunds has no history).
	t.Run("OneShapeForTimesAndEmptyLists", func(t *testing.T) {
		var h map[string]any
		if code := getJSON(t, srv.URL+"/v1/refunds/1688/TQ900000/history", &h); code != 200 {
			t.Fatal(code)
		}
		d := h["deliveries"].([]any)[0].(map[string]any)
		if got, ok := d["receivedAt"].(string); !ok || !strings.HasPrefix(got, "2026-11-27T10:00:00") {
			t.Errorf("delivery receivedAt %#v, want RFC 3339", d["receivedAt"])
		}
		var o map[string]any
		if code := getJSON(t, srv.URL+"/v1/orders/1688/7000000000000000000", &o); code != 200 {
			t.Fatal(code)
		}
		for _, k := range []string{"statusHistory", "priceHistory", "refunds", "anomalies"} {
			if l, ok := o[k].([]any); !ok || l == nil {
				t.Errorf("order %s is %#v, want a list", k, o[k])
			}
		}
	})

	t.Run("MetricsAndReadiness", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range []string{
			"refundledger_projection_checkpoint 41", "refundledger_projection_lag 0",
			`refundledger_projection_messages_total{kind="refund"} 41`, "# TYPE refundledger_projection_facts_total counter",
		} {
			if !strings.Contains(string(body), line+"\n") {
				t.Errorf("/metrics lacks %q:\n%s", line, body)
			}
		}
		var ready map[string]string
		if code := getJSON(t, srv.URL+"/readyz", &ready); code != 200 || ready["status"] != "ready" {
			t.Errorf("readyz %d %v", code, ready)
		}
	})

	t.Run("StatusShowsLag", func(t *testing.T) {
		var st projections.Status
		if code := getJSON(t, srv.URL+"/v1/status", &st); code != 200 || st.Lag != 0 || st.Checkpoint != 41 || st.Counts.Refunds != 41 {
			t.Fatalf("status %d %+v", code, st)
		}
	})
}
