package redistest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// StartReplica starts a replica of primary (REPLICAOF), persistent if the
// primary is, and waits until it has synced. It stops at test end.
func StartReplica(t testing.TB, primary *Server) *Server {
	t.Helper()
	need(t)
	r := startServer(t, primary.persistent, "--replicaof", "127.0.0.1", primary.port())
	if err := r.WaitSynced(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return r
}

// WaitSynced waits until the server, a replica, is linked to its primary
// and done with the initial sync.
func (s *Server) WaitSynced(timeout time.Duration) error {
	return waitFor(timeout, "replica "+s.Addr+" in sync", func() (bool, error) {
		info, err := s.info("replication")
		return strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up") &&
			strings.Contains(info, "master_sync_in_progress:0"), err
	})
}

// info returns INFO section of the server.
func (s *Server) info(section string) (string, error) {
	v, err := s.Do("info", section)
	if err != nil {
		return "", err
	}
	str, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("redistest: INFO %s answered %T", section, v)
	}
	return str, nil
}
