// Package slacktest is an in-process fake of Slack for tests and benchmarks.
//
// It speaks the real wire format, so the unmodified slack-go client
// (slack.New + socketmode.New) runs against it:
//
//	fake := slacktest.New(t)
//	api := slack.New("xoxb-test", slack.OptionAppLevelToken("xapp-test"),
//		slack.OptionAPIURL(fake.APIURL()))
//	client := socketmode.New(api)
//
// The fake serves the Web API under /api/<method>, Socket Mode under /ws,
// response_url hooks under /hooks/ and file uploads under /upload/. Every
// HTTP request is recorded as a [Call]; every ack written by the client is
// recorded as an [Ack]. Envelopes are pushed to the bot with SlashCommand,
// BlockAction, ViewSubmission, EventCallback, LinkShared and SendEnvelope;
// chat.unfurl calls are kept as [Unfurl]s.
//
// Payloads are held to Slack's documented limits (limits.go): a message,
// view or ack over one is refused with Slack's error (invalid_blocks,
// invalid_arguments, msg_too_long; HTTP 400 on a response_url), and an ack
// frame of 20 KB or more is dropped as Slack drops it ([Server.DroppedAcks]).
// [CheckMessage] and [CheckView] apply the same rules in other tests.
//
// All methods are safe for concurrent use. The fake never logs; it is shut
// down by t.Cleanup (sockets closed, handler goroutines waited for, HTTP
// server closed), so register it before the bot under test so that the bot's
// own cleanup runs first (LIFO).
package slacktest

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fixed identities used in every response and envelope.
const (
	TeamID    = "T123"
	AppID     = "A123"
	BotUserID = "UBOT"
	BotID     = "BBOT"
	// Command is the slash command sent by SlashCommand.
	Command = "/ops"
	// VerificationToken is the (deprecated) token field inside envelope payloads.
	VerificationToken = "fake-verification-token"
)

// User is a workspace member served by users.info, users.list and
// users.lookupByEmail, and used for user names in envelopes.
type User struct {
	ID, Name, RealName, Email string
	IsBot                     bool
	Deleted                   bool
	TZ                        string // IANA name, e.g. "Europe/London"
}

// Message is a message stored by chat.postMessage and changed by chat.update.
type Message struct {
	Channel, TS, ThreadTS, Text string
	Blocks                      json.RawMessage // nil when posted without blocks
	Updated                     int             // number of chat.update calls applied
	Metadata                    json.RawMessage // message metadata ({"event_type":..,"event_payload":..}), nil if none
}

// File is a file uploaded with files.getUploadURLExternal + upload +
// files.completeUploadExternal.
type File struct {
	ID, Name, Title, Channel string
	ThreadTS, InitialComment string
	Content                  []byte
}

// Call is one recorded HTTP request. Method is the Web API method
// ("chat.postMessage"), "response_url" for posts to /hooks/..., or
// "file_upload" for the upload step of files.uploadV2. Form holds the URL
// query plus a form-encoded or multipart body (never nil); JSON holds a JSON
// object body (nil otherwise). Treat Form, JSON and Header as read-only.
// A slash command's reply carried in its ack is recorded as a "response_url"
// Call too (Via ViaAck, Path its response_url's path, JSON the payload):
// Slack shows it to the person just as it shows a post to the URL.
type Call struct {
	Method string
	Path   string
	Form   url.Values
	JSON   map[string]any
	Header http.Header
	At     time.Time
	Via    string // "" for an HTTP request, ViaAck for a reply in an ack
}

// Ack is one frame written by the client over the socket. Payload is nil for
// a plain ack. SentAt is when the fake last wrote the envelope with that ID
// (zero if it never did).
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage
	At         time.Time
	SentAt     time.Time
}

type failure struct {
	status int
	body   string
	header http.Header
	after  bool // the call is handled first: its effect lands, its reply is lost
}

type trigger struct {
	issued time.Time
	used   bool
}

type pendingFile struct {
	File
	uploaded, completed bool
}

// envState tracks deliveries (gen) and acks of one envelope ID.
type envState struct {
	gen        int
	sentAt     time.Time
	acks       []ackRec
	droppedGen int // the delivery whose ack was last dropped (0: none)
	// inputs are the input block IDs of the view a view_submission
	// carries, when the view was opened through the fake (nil: unknown).
	inputs map[string]bool
	// typ, accepts and responsePath describe the latest delivery: its
	// envelope type, accepts_response_payload and response_url path.
	typ          string
	accepts      bool
	responsePath string
}

type ackRec struct {
	gen int
	ack Ack
}

// Server is a running fake Slack. URL is its base, http://127.0.0.1:PORT.
type Server struct {
	URL string

	srv      *httptest.Server
	wsURL    string
	wg       sync.WaitGroup // websocket handler and ping goroutines
	mu       sync.Mutex
	closed   bool
	counters map[string]int // id sequences: "env", "trigger", "hook", "ts", "view", "file", "ticket"

	// configuration
	botToken, appToken string
	pingInterval       time.Duration
	triggerTTL         time.Duration
	ackDeadline        time.Duration

	// workspace
	users        []User
	userIdx      map[string]int
	channels     map[string]string // id -> name
	channelByNam map[string]string // name -> id
	archived     map[string]bool
	notJoined    map[string]bool // public channels the bot is not a member of (SetMember)

	// recordings
	calls     []Call
	byMethod  map[string][]int
	byHook    map[string][]int // "response_url" calls by path
	acks      []Ack
	dropped   []DroppedAck
	refusals  []string // payloads refused for Slack's limits
	expectRef bool     // ExpectRefusals: a refusal is what the test wants
	envs      map[string]*envState
	messages  []*Message
	msgByTS   map[string]*Message
	files     map[string]*pendingFile
	fileOrder []string
	views     map[string]json.RawMessage
	unfurls   []Unfurl
	homeViews map[string]string // user -> view id
	triggers  map[string]*trigger
	tickets   map[string]bool
	fail      map[string][]failure

	// socket state
	cur         *wsConn
	conns       map[*wsConn]struct{}
	connections int
	tcpConns    atomic.Int64 // TCP connections accepted (HTTP and websocket)
	pongs       int
	pending     []pendingEnv

	// broadcast channels, closed and replaced on change when a waiter holds them
	ackCh, callCh, connCh       chan struct{}
	ackUsed, callUsed, connUsed bool
}

// New starts a fake Slack on 127.0.0.1 and registers its shutdown with
// t.Cleanup. Default settings: any xoxb-/xapp- token accepted, PINGs every
// 50 ms, trigger_id lifetime 3 s, ack deadline 3 s.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		counters:     map[string]int{},
		pingInterval: 50 * time.Millisecond,
		triggerTTL:   3 * time.Second,
		ackDeadline:  3 * time.Second,
		userIdx:      map[string]int{},
		channels:     map[string]string{},
		channelByNam: map[string]string{},
		archived:     map[string]bool{},
		notJoined:    map[string]bool{},
		byMethod:     map[string][]int{},
		byHook:       map[string][]int{},
		envs:         map[string]*envState{},
		msgByTS:      map[string]*Message{},
		files:        map[string]*pendingFile{},
		views:        map[string]json.RawMessage{},
		homeViews:    map[string]string{},
		triggers:     map[string]*trigger{},
		tickets:      map[string]bool{},
		fail:         map[string][]failure{},
		conns:        map[*wsConn]struct{}{},
		ackCh:        make(chan struct{}),
		callCh:       make(chan struct{}),
		connCh:       make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/hooks/", s.serveHook)
	mux.HandleFunc("/upload/", s.serveUpload)
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.tcpConns.Add(1)
		}
	}
	s.srv.Start()
	s.URL = s.srv.URL
	s.wsURL = "ws" + strings.TrimPrefix(s.URL, "http")
	t.Cleanup(s.close)
	t.Cleanup(func() { s.reportRefusals(t) }) // runs first: the test's own checks are done
	return s
}

// close shuts the fake down: no new sockets, all sockets closed abruptly,
// handler goroutines waited for, then the HTTP server closed.
func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.cur = nil
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
	s.wg.Wait()
	s.srv.Close()
}

// TCPConns returns how many TCP connections the fake has accepted (HTTP
// requests and websockets): a client that reuses its connections opens few.
func (s *Server) TCPConns() int { return int(s.tcpConns.Load()) }

// APIURL is the value for slack.OptionAPIURL: URL + "/api/".
func (s *Server) APIURL() string { return s.URL + "/api/" }
