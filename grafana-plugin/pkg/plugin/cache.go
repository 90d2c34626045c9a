package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"golang.org/x/sync/singleflight"
)

// maxCacheEntries bounds the cache; past it, expired entries go first and
// then arbitrary ones.
const maxCacheEntries = 2048

// cache answers identical queries from memory for ttl, and lets identical
// queries in flight at once share one run. A zero ttl keeps nothing but
// still shares runs. Errors are never kept.
type cache struct {
	ttl   time.Duration
	group singleflight.Group

	mu      sync.Mutex
	entries map[string]cacheEntry

	hits   atomic.Int64
	shared atomic.Int64
}

type cacheEntry struct {
	frames  data.Frames
	expires time.Time
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: map[string]cacheEntry{}}
}

// get returns the frames kept for key, or those of a run of key already
// in flight, or runs it. The run gets a context that does not end when
// this caller gives up, since others may be waiting for it.
func (c *cache) get(ctx context.Context, key string,
	run func(context.Context) (data.Frames, error)) (data.Frames, error) {
	if f, ok := c.lookup(key); ok {
		c.hits.Add(1)
		return f, nil
	}

	led := false // set by the one caller whose function runs
	ch := c.group.DoChan(key, func() (any, error) {
		led = true
		if f, ok := c.lookup(key); ok { // kept while this call waited for the lock
			c.hits.Add(1)
			return f, nil
		}
		f, err := run(context.WithoutCancel(ctx))
		if err == nil {
			c.store(key, f)
		}
		return f, err
	})

	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Shared && !led {
			c.shared.Add(1)
		}
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(data.Frames), nil
	}
}

func (c *cache) lookup(key string) (data.Frames, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return e.frames, true
}

func (c *cache) store(key string, f data.Frames) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		c.evict()
	}
	c.entries[key] = cacheEntry{frames: f, expires: time.Now().Add(c.ttl)}
}

// evict drops the expired entries, then arbitrary ones until a quarter of
// the room is free. The caller holds mu.
func (c *cache) evict() {
	now := time.Now()
	for k, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, k)
		}
	}
	for k := range c.entries {
		if len(c.entries) < maxCacheEntries*3/4 {
			break
		}
		delete(c.entries, k)
	}
}

// ignoredKeys are the query JSON properties that do not change the answer
// (or are part of the key already, from DataQuery).
var ignoredKeys = []string{"refId", "datasource", "datasourceId", "hide", "key",
	"intervalMs", "maxDataPoints"}

// cacheKey identifies the answer of a query: its type, its options (the
// JSON without refId and the like, with keys sorted), the time range,
// interval and maximum data points.
func cacheKey(q backend.DataQuery) (string, error) {
	opts := map[string]any{}
	if len(q.JSON) > 0 {
		if err := json.Unmarshal(q.JSON, &opts); err != nil {
			return "", fmt.Errorf("query JSON: %w", err)
		}
	}
	for _, k := range ignoredKeys {
		delete(opts, k)
	}
	canon, err := json.Marshal(opts) // encoding/json sorts map keys
	if err != nil {
		return "", fmt.Errorf("query JSON: %w", err)
	}

	h := sha256.New()
	for _, part := range []string{
		q.QueryType, string(canon),
		strconv.FormatInt(q.TimeRange.From.UnixNano(), 10),
		strconv.FormatInt(q.TimeRange.To.UnixNano(), 10),
		strconv.FormatInt(int64(q.Interval), 10),
		strconv.FormatInt(q.MaxDataPoints, 10),
	} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
