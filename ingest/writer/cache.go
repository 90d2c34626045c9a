package writer

import "sync"

// routerCache maps serials to router ids. Ids never change, so a hit is
// always right; the cache is bounded and simply forgets everything when
// full, which costs one lookup per router afterwards.
type routerCache struct {
	mu  sync.Mutex
	max int
	ids map[string]routerInfo
}

// routerInfo is what the writer remembers of a router between batches.
type routerInfo struct {
	id int64
	// inventory is the last inventory written, to skip unchanged updates.
	inventory inventory
}

func newRouterCache(max int) *routerCache {
	return &routerCache{max: max, ids: make(map[string]routerInfo)}
}

func (c *routerCache) get(serial string) (routerInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ri, ok := c.ids[serial]
	return ri, ok
}

func (c *routerCache) put(serial string, ri routerInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ids) >= c.max {
		clear(c.ids)
	}
	c.ids[serial] = ri
}

// forget drops a serial, for example after a failed transaction that
// created it.
func (c *routerCache) forget(serial string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ids, serial)
}
