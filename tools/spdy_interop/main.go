// Command spdy_interop is a test tool: it speaks SPDY/3.1 through moby/spdystream (the library
// under Kubernetes' exec, attach and port-forward clients) to an echo server at the given
// address, and prints what it saw as JSON, so a Deno test can check the session against the
// real client library. It dials, opens three streams with headers, writes to each (one large
// payload to cross frame and window sizes), half-closes, reads the echoes, opens a stream the
// server refuses, pings, and closes.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/moby/spdystream"
)

type result struct {
	Echoes  []string `json:"echoes"`
	Large   bool     `json:"large"`
	Pinged  bool     `json:"pinged"`
	Refused bool     `json:"refused"`
	Errors  []string `json:"errors"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: spdy_interop host:port")
		os.Exit(2)
	}
	res, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(addr string) (*result, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	conn, err := spdystream.NewConnection(nc, false)
	if err != nil {
		return nil, err
	}
	go conn.Serve(spdystream.NoOpStreamHandler)

	large := bytes.Repeat([]byte("0123456789abcdef"), 64*1024) // 1 MiB in one write
	payloads := map[string][]byte{"stdin": []byte("hello stdin"), "stdout": large, "error": []byte("e")}
	res := &result{Echoes: make([]string, 3)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, kind := range []string{"stdin", "stdout", "error"} {
		h := http.Header{}
		h.Set("streamType", kind)
		h.Set("requestID", fmt.Sprint(i))
		s, err := conn.CreateStream(h, nil, false)
		if err != nil {
			return nil, err
		}
		if err := s.Wait(); err != nil {
			return nil, fmt.Errorf("stream %s: no reply: %w", kind, err)
		}
		wg.Add(1)
		go func(i int, kind string, s *spdystream.Stream) {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", kind, err))
				mu.Unlock()
			}
			go func() {
				if _, err := s.Write(payloads[kind]); err != nil {
					fail(err)
				}
				if err := s.Close(); err != nil {
					fail(err)
				}
			}()
			got, err := io.ReadAll(s)
			if err != nil {
				fail(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if kind == "stdout" {
				res.Large = bytes.Equal(got, append([]byte("stdout:"), large...))
				res.Echoes[i] = fmt.Sprintf("%d bytes", len(got))
			} else {
				res.Echoes[i] = string(got)
			}
		}(i, kind, s)
	}
	wg.Wait()
	// A stream the server refuses: spdystream reports the RST_STREAM from Wait.
	h := http.Header{}
	h.Set("x-refuse", "yes")
	if s, err := conn.CreateStream(h, nil, false); err == nil {
		res.Refused = s.Wait() != nil
	}
	if _, err := conn.Ping(); err == nil {
		res.Pinged = true
	} else {
		res.Errors = append(res.Errors, "ping: "+err.Error())
	}
	if err := conn.Close(); err != nil {
		res.Errors = append(res.Errors, "close: "+err.Error())
	}
	return res, nil
}
