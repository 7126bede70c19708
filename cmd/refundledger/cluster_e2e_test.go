package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ingest"
	"refundledger/projections"
)

// startNATSCluster starts a three-node JetStream cluster on loopback, each
// node routed to all three, and returns its nodes.
func startNATSCluster(t *testing.T) []*server.Server {
	t.Helper()
	// A clustered JetStream node must be given its routes, so the cluster
	// ports are chosen before the nodes start.
	var ports []int
	var routes []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		routes = append(routes, "nats-route://"+l.Addr().String())
		l.Close()
	}
	var nodes []*server.Server
	for i := range 3 {
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(),
			MaxPayload: 2 << 20,
			Cluster:    server.ClusterOpts{Name: "refundledger-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
			NoLog:      true, NoSigs: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		nodes = append(nodes, ns)
	}
	for i, ns := range nodes {
		if !ns.ReadyForConnections(30 * time.Second) {
			t.Fatalf("NATS node %d not ready", i+1)
		}
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		formed := true
		for _, ns := range nodes {
			formed = formed && ns.NumRoutes() >= 2
		}
		if formed {
			return nodes
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("the NATS nodes did not form a cluster within 30s")
		}
	}
}

// Two refundledger nodes on a three-node NATS cluster (streams R3), the
// set-up of deploy/: callbacks go to either node, the NATS node leading the
// callback stream is stopped half-way (as a host would fail), and afterwards
// every callback answered 200 is in the stream, both projections are equal
// and audited, and each fact is in REFUND_EVENTS once although both nodes run
// a relay. What the nodes meet during the fail-over (a timeout, a 503, a
// reconnect, nothing) varies from run to run: this test catches what breaks
// often, not every time (it caught the relay stopping serve in 1 run in 3-5).
func TestClusterOfTwoNodesSurvivesANATSNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary against a NATS cluster")
	}
	nodes := startNATSCluster(t)
	var urls []string
	for _, ns := range nodes {
		urls = append(urls, ns.ClientURL())
	}
	var a, b *service
	t.Cleanup(func() { // after the nodes are killed (cleanups run last first)
		if t.Failed() && b != nil {
			t.Logf("node A's log:\n%s\nnode B's log:\n%s", a.stderr, b.stderr)
		}
	})
	a = startServe(t, t.TempDir(), "--nats", strings.Join(urls, ","), "--replicas", "3")
	b = startServe(t, t.TempDir(), "--nats", strings.Join(urls, ","), "--replicas", "3")
	requireStreamsKeepTheirReplicas(t, strings.Join(urls, ","))
	requireCopiesAtOnceAreOneCallback(t, a, b)

	out, err := exec.Command(mustBuild(t), "gen", "--orders", "30", "--seed", "11").Output()
	if err != nil {
		t.Fatal(err)
	}
	callbacks := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	receipts, retries := map[string]bool{}, 0
	for i, body := range callbacks {
		if i == len(callbacks)/2 {
			// The NATS host that leads the callback stream fails; the other
			// two keep the quorum and elect a new leader.
			leader := streamLeader(t, urls[0])
			for _, ns := range nodes {
				if ns.Name() == leader {
					ns.Shutdown()
				}
			}
			t.Logf("stopped NATS node %s, the callback stream's leader, after %d callbacks", leader, i)
		}
		s := []*service{a, b}[i%2]
		receipt, n := postUntilStored(t, s, body)
		if receipt != "" { // "" only for a duplicate whose original could not be read back
			receipts[receipt] = true
		}
		retries += n
	}

	// What the cluster holds, read through a surviving node.
	js := mustJetStream(t, strings.Join(urls, ","))
	stored := map[string]bool{}
	var last uint64
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		st, err := js.Stream(context.Background(), ingest.StreamName)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(context.Background()); err == nil {
				if info.Config.Replicas != 3 {
					t.Fatalf("the callback stream has %d replicas, want 3", info.Config.Replicas)
				}
				last = info.State.LastSeq
				for seq := uint64(1); seq <= last && err == nil; seq++ {
					var m *jetstream.RawStreamMsg
					if m, err = st.GetMsg(context.Background(), seq); err == nil {
						stored[m.Header.Get(ingest.HeaderReceiptID)] = true
					}
				}
			}
		}
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("reading the stream: %v", err)
		}
	}
	for r := range receipts {
		if !stored[r] {
			t.Errorf("callback answered 200 with receipt %s is not in the stream", r)
		}
	}

	a.waitCaughtUp(t, last)
	b.waitCaughtUp(t, last)
	for _, s := range []*service{a, b} {
		if out, err := exec.Command(mustBuild(t), "audit", "--admin", s.admin).CombinedOutput(); err != nil ||
			!bytes.Contains(out, []byte("OK: the projection equals")) {
			t.Fatalf("audit of %s: %v\n%s", s.admin, err, out)
		}
	}
	type counts struct{ Messages, Refunds, Orders, Quarantined, Facts uint64 }
	countsOf := func(s *service) counts {
		_, b := s.get(t, "/v1/status")
		var st struct{ Counts counts }
		if err := json.Unmarshal(b, &st); err != nil || st.Counts.Facts == 0 {
			t.Fatalf("status %s: %v", b, err)
		}
		return st.Counts
	}
	ca, cb := countsOf(a), countsOf(b)
	if ca != cb || ca.Messages != last {
		t.Fatalf("counts of the nodes: %+v and %+v, for %d messages in the stream", ca, cb, last)
	}
	for _, path := range []string{"/v1/refunds?limit=500", "/v1/refunds?status=refundsuccess&limit=500"} {
		_, fromA := a.get(t, path)
		if _, fromB := b.get(t, path); !bytes.Equal(fromA, fromB) {
			t.Fatalf("GET %s differs between the nodes:\n%.400s\n%.400s", path, fromA, fromB)
		}
	}
	t.Logf("%d callbacks posted (%d answers 503 during the fail-over, retried), %d stored, %d facts",
		len(callbacks), retries, last, ca.Facts)
	if n := eventCount(t, js, ca.Facts); n != ca.Facts {
		t.Fatalf("REFUND_EVENTS holds %d events for %d facts: the two relays published some twice or lost some", n, ca.Facts)
	}
}

// streamLeader returns the name of the NATS node that leads the callback
// stream.
func streamLeader(t *testing.T, url string) string {
	t.Helper()
	js := mustJetStream(t, url)
	st, err := js.Stream(context.Background(), ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
		t.Fatalf("callback stream leader: %v %+v", err, info)
	}
	return info.Cluster.Leader
}

// postUntilStored posts body the way Xportcn retries: until a 200 (a 503
// while NATS fails over is expected). It returns the receipt and the number
// of 503 answers before it.
func postUntilStored(t *testing.T, s *service, body []byte) (string, int) {
	t.Helper()
	for start, n := time.Now(), 0; time.Since(start) < 60*time.Second; n++ {
		resp, err := http.Post(s.callback, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		code, answer := decode(t, resp)
		if code == 200 {
			receipt, _ := answer["receiptId"].(string)
			return receipt, n
		}
		if code != 503 {
			t.Fatalf("POST to %s: %d %v", s.callback, code, answer)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s answered 503 for a minute", s.callback)
	return "", 0
}

// requireStreamsKeepTheirReplicas: what a node started without --replicas
// (serve, project; the default is 1) does to the cluster's R3 streams at
// start: they keep 3 replicas. It used to make them R1.
func requireStreamsKeepTheirReplicas(t *testing.T, urls string) {
	t.Helper()
	js := mustJetStream(t, urls)
	ctx := context.Background()
	for _, ensure := range []func() (jetstream.Stream, error){
		func() (jetstream.Stream, error) { return ingest.EnsureStream(ctx, js, 1) },
		func() (jetstream.Stream, error) { return projections.EnsureEventsStream(ctx, js, 1) },
		func() (jetstream.Stream, error) {
			if _, err := ingest.NewKVNonceStore(ctx, js, 1); err != nil {
				return nil, err
			}
			return js.Stream(ctx, "KV_"+ingest.NonceBucket)
		},
	} {
		s, err := ensure()
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Replicas != 3 {
			t.Fatalf("stream %s has %d replicas after a start with --replicas 1, want 3", info.Config.Name, info.Config.Replicas)
		}
	}
}

// requireCopiesAtOnceAreOneCallback: copies of one callback posted at the
// same moment to both nodes (Xportcn retrying while the first is stored)
// are all answered 200 with one receipt. On a replicated stream JetStream
// answers a copy that comes while the first is being stored "duplicate
// message id is in process", which the ingester answered 503.
func requireCopiesAtOnceAreOneCallback(t *testing.T, a, b *service) {
	t.Helper()
	for round := range 5 {
		body := bytes.ReplaceAll(fixture(t, "1688-refund-refundonly-success.json"),
			[]byte("TQ142969441872889407"), fmt.Appendf(nil, "TQ77%d", round))
		const copies = 16
		codes, receipts := make([]int, copies), make([]string, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Go(func() {
				resp, err := http.Post([]*service{a, b}[i%2].callback, "application/json", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				code, answer := decode(t, resp)
				codes[i] = code
				receipts[i], _ = answer["receiptId"].(string)
			})
		}
		wg.Wait()
		for i := range copies {
			if codes[i] != 200 || receipts[i] != receipts[0] {
				t.Fatalf("round %d: copies posted at once answered %v with receipts %v, want 200 and one receipt", round, codes, receipts)
			}
		}
	}
}
