package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// NonceStore remembers the nonces of accepted signatures so a captured
// request cannot be replayed.
type NonceStore interface {
	// Claim records (accessKey, nonce) and reports whether it was fresh:
	// true the first time within the store's TTL, false afterwards. It is
	// atomic across every ingester sharing the store. An error means the
	// store could not answer; the caller must not treat the nonce as fresh.
	Claim(ctx context.Context, accessKey, nonce string) (fresh bool, err error)
	// Release forgets a claimed nonce, for a request that was then not
	// stored: the same request sent again is then no replay.
	Release(ctx context.Context, accessKey, nonce string) error
}

// NonceBucket is the JetStream key-value bucket that holds claimed nonces.
const NonceBucket = "XPORTCN_NONCES"

// NonceTTL is how long a claimed nonce is remembered: a little over the skew
// window on either side (2 × MaxSkew), after which the signature's timestamp
// is stale anyway, plus a minute of margin.
const NonceTTL = 2*MaxSkew + time.Minute

// KVNonceStore is a NonceStore in a JetStream key-value bucket with a TTL, so
// every ingester of a cluster shares it. Keys are the hex SHA-256 of the
// access key and nonce (any nonce bytes are accepted). Safe for concurrent use.
type KVNonceStore struct {
	kv jetstream.KeyValue
}

// NewKVNonceStore creates (or updates) NonceBucket with NonceTTL, file
// storage and the given replicas (never fewer than it has, as EnsureStream),
// and returns a store on it.
func NewKVNonceStore(ctx context.Context, js jetstream.JetStream, replicas int) (*KVNonceStore, error) {
	have, err := StreamReplicas(ctx, js, "KV_"+NonceBucket)
	if err != nil {
		return nil, fmt.Errorf("nonce bucket %s: %w", NonceBucket, err)
	}
	replicas = max(replicas, have, 1)
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      NonceBucket,
		Description: "Xportcn signature nonces seen within the replay window",
		History:     1,
		TTL:         NonceTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("nonce bucket %s: %w", NonceBucket, err)
	}
	return &KVNonceStore{kv: kv}, nil
}

// Claim implements NonceStore with a create-if-absent on the bucket.
func (s *KVNonceStore) Claim(ctx context.Context, accessKey, nonce string) (bool, error) {
	_, err := s.kv.Create(ctx, nonceKey(accessKey, nonce), []byte{1})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return false, nil
	}
	return false, fmt.Errorf("claim nonce: %w", err)
}

// Release implements NonceStore: the key is deleted, and Create succeeds on a
// deleted key.
func (s *KVNonceStore) Release(ctx context.Context, accessKey, nonce string) error {
	if err := s.kv.Delete(ctx, nonceKey(accessKey, nonce)); err != nil {
		return fmt.Errorf("release nonce: %w", err)
	}
	return nil
}

func nonceKey(accessKey, nonce string) string {
	h := sha256.New()
	h.Write([]byte(accessKey))
	h.Write([]byte{0})
	h.Write([]byte(nonce))
	return hex.EncodeToString(h.Sum(nil))
}
