package slacktest

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// helloFrame is the first frame on every socket, as Slack sends it.
const helloFrame = `{"type":"hello","num_connections":1,` +
	`"debug_info":{"host":"applink-fake","build_number":1,"approximate_connection_time":18060},` +
	`"connection_info":{"app_id":"` + AppID + `"}}`

const writeTimeout = 10 * time.Second

// upgrader accepts any Origin: slack-go dials with Origin https://api.slack.com.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// wsConn is one accepted socket. Every write (frames and pings) happens with
// wmu held. Lock order: wmu before Server.mu, never the other way round.
type wsConn struct {
	ws    *websocket.Conn
	wmu   sync.Mutex
	ready bool          // hello written; guarded by Server.mu
	done  chan struct{} // closed when the read loop ends
}

func (c *wsConn) write(frame []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

type pendingEnv struct {
	id    string
	frame []byte
}

// serveWS accepts a Socket Mode connection for a ticket issued by
// apps.connections.open (single use; others get 401). The new socket
// replaces the current one (closed abruptly); the hello frame and then the
// queued envelopes are written before any other envelope.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.tickets[ticket] {
		s.mu.Unlock()
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	delete(s.tickets, ticket)
	s.wg.Add(1) // counter is > 0 from here on until Done, so the ping Add below is safe
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, done: make(chan struct{})}
	ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.pongs++
		s.mu.Unlock()
		return nil
	})

	c.wmu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.wmu.Unlock()
		_ = ws.Close()
		return
	}
	old := s.cur
	s.cur = c
	s.conns[c] = struct{}{}
	s.connections++
	queue := s.pending
	s.pending = nil
	s.mu.Unlock()
	if old != nil {
		_ = old.ws.Close()
	}
	err = c.write([]byte(helloFrame))
	for i := 0; err == nil && i < len(queue); i++ {
		s.markSent(queue[i].id)
		if err = c.write(queue[i].frame); err != nil {
			queue = queue[i:]
		}
	}
	c.wmu.Unlock()
	s.mu.Lock()
	if err != nil {
		s.requeue(c, queue...)
	} else if s.cur == c {
		c.ready = true
	}
	s.notifyConn()
	s.mu.Unlock()

	s.wg.Add(1)
	go s.pinger(c)
	s.readLoop(c)

	s.mu.Lock()
	if s.cur == c {
		s.cur = nil
		s.notifyConn()
	}
	delete(s.conns, c)
	s.mu.Unlock()
	close(c.done)
	_ = ws.Close()
}

// requeue detaches c (if current) and puts envelopes back at the front of
// the queue, to be written on the next connection. s.mu held.
func (s *Server) requeue(c *wsConn, envs ...pendingEnv) {
	if s.cur == c {
		s.cur = nil
		s.notifyConn()
	}
	if !s.closed {
		s.pending = append(append([]pendingEnv(nil), envs...), s.pending...)
	}
}

// markSent records the write time of an envelope.
func (s *Server) markSent(id string) {
	s.mu.Lock()
	s.env(id).sentAt = time.Now()
	s.mu.Unlock()
}

// readLoop records acks until the socket fails. Frames without an
// envelope_id are ignored.
func (s *Server) readLoop(c *wsConn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var f struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &f) != nil || f.EnvelopeID == "" {
			continue
		}
		why := ackRefusal(data, f.Payload)
		if why == "" {
			why = s.errorsRefusal(f.EnvelopeID, f.Payload)
		}
		if why != "" {
			s.recordDropped(f.EnvelopeID, len(data), why)
			continue
		}
		// The reply is shown before the ack is recorded: a test that sees
		// the ack also sees what it carried.
		at := time.Now()
		s.showAckReply(f.EnvelopeID, f.Payload, at)
		s.recordAck(f.EnvelopeID, f.Payload, at)
	}
}

// pinger sends a websocket PING every ping interval until the socket closes.
func (s *Server) pinger(c *wsConn) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		d := s.pingInterval
		s.mu.Unlock()
		idle := d <= 0
		if idle {
			d = 10 * time.Millisecond // re-check the setting
		}
		t := time.NewTimer(d)
		select {
		case <-c.done:
			t.Stop()
			return
		case <-t.C:
		}
		if idle {
			continue
		}
		c.wmu.Lock()
		err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout))
		c.wmu.Unlock()
		if err != nil {
			_ = c.ws.Close() // the read loop notices and cleans up
			return
		}
	}
}

// deliver writes an envelope frame on the current socket, or queues it until
// a socket connects (also when the write fails).
func (s *Server) deliver(id string, frame []byte) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	c := s.cur
	if c == nil {
		s.pending = append(s.pending, pendingEnv{id, frame})
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()

	c.wmu.Lock()
	s.mu.Lock()
	if s.cur != c { // detached meanwhile (Disconnect, DropSocket, failure, new socket)
		if s.cur == nil {
			s.pending = append(s.pending, pendingEnv{id, frame})
			s.mu.Unlock()
			c.wmu.Unlock()
			return
		}
		s.mu.Unlock()
		c.wmu.Unlock()
		s.deliver(id, frame)
		return
	}
	s.env(id).sentAt = time.Now()
	s.mu.Unlock()
	err := c.write(frame)
	c.wmu.Unlock()
	if err != nil {
		_ = c.ws.Close()
		s.mu.Lock()
		s.requeue(c, pendingEnv{id, frame})
		s.mu.Unlock()
	}
}

// Disconnect sends {"type":"disconnect","reason":reason,...} on the current
// socket and detaches it: envelopes sent afterwards are queued for the next
// connection (slack-go closes the socket and reconnects). No-op without a
// socket.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	c := s.cur
	s.mu.Unlock()
	if c == nil {
		return
	}
	frame, _ := json.Marshal(map[string]any{
		"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "applink-fake"},
	})
	c.wmu.Lock()
	s.mu.Lock()
	if s.cur == c {
		s.cur = nil
		s.notifyConn()
	}
	s.mu.Unlock()
	if err := c.write(frame); err != nil {
		_ = c.ws.Close()
	}
	c.wmu.Unlock()
}

// DropSocket closes the current socket abruptly (no close frame), as a
// network failure would. Envelopes sent afterwards are queued for the next
// connection. No-op without a socket.
func (s *Server) DropSocket() {
	s.mu.Lock()
	c := s.cur
	if c != nil {
		s.cur = nil
		s.notifyConn()
	}
	s.mu.Unlock()
	if c != nil {
		_ = c.ws.Close()
	}
}
