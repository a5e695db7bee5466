package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// launch starts a server on free ports. Another process may take a port
// between freePort and the bind (the cluster bus port above all, which
// sits among the ports outgoing connections use), so a server that exits
// at once is tried again on new ports.
func launch(dir, conf string, persistent bool, args ...string) (*Server, error) {
	var err error
	for range 5 {
		s := &Server{dir: dir, conf: conf, persistent: persistent, args: args}
		port, perr := freePort()
		if perr != nil {
			return nil, perr
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if slices.Contains(args, "--cluster-enabled") {
			if s.busPort, perr = freePort(); perr != nil {
				return nil, perr
			}
		}
		if err = s.Restart(); err == nil || !errors.Is(err, errExited) {
			return s, err
		}
	}
	return nil, err
}

// logTail is the end of the server's log, for an error that says why.
func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return "no log: " + err.Error()
	}
	const keep = 600
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return "log ends: " + string(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
