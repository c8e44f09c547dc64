// cri_list times CRI List calls from a Go gRPC client, as the kubelet makes them.
//
// The bench's own client is grpc-js on Deno: its p99 for a trivial call is several milliseconds
// against either daemon, which hides the daemons' own tails under a 5 ms target. This client
// times each call until its answer has arrived and again once it is decoded (the kubelet decodes
// it; decoding 330 containers' labels and annotations is this client's time, not the daemon's),
// counts the items of the warm-up call, and prints one JSON object:
// {"ms": [...], "arrivedMs": [...], "items": N}.
//
// With -serve it is the other end instead: a server of fixed List answers (serve.go).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type result struct {
	// Until the answer has arrived and is decoded, as the kubelet sees a call.
	Ms []float64 `json:"ms"`
	// Until the answer's last byte has arrived: the daemon's part, without this client's decoding.
	ArrivedMs []float64 `json:"arrivedMs"`
	Items     int       `json:"items"`
}

// rawCodec hands the answer over undecoded, so arrival and decoding are timed apart.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	// The serving floor's answers are bytes already.
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return proto.Marshal(v.(proto.Message))
}
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func dial(socket string) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///cri",
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}),
		// The kubelet's limit: a node's full container list must fit.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16*1024*1024)),
	)
}

// call is one method's request and how to count the items of its decoded answer.
type call struct {
	req   proto.Message
	reply func() proto.Message
	items func(proto.Message) int
}

var calls = map[string]call{
	// The transport's floor: a call that does nothing in either daemon.
	"Version": {&cri.VersionRequest{}, func() proto.Message { return &cri.VersionResponse{} },
		func(proto.Message) int { return 0 }},
	"ListPodSandbox": {&cri.ListPodSandboxRequest{},
		func() proto.Message { return &cri.ListPodSandboxResponse{} },
		func(m proto.Message) int { return len(m.(*cri.ListPodSandboxResponse).Items) }},
	"ListContainers": {&cri.ListContainersRequest{},
		func() proto.Message { return &cri.ListContainersResponse{} },
		func(m proto.Message) int { return len(m.(*cri.ListContainersResponse).Containers) }},
}

// once makes one call; it returns the item count and when the answer arrived and was decoded.
func once(ctx context.Context, conn *grpc.ClientConn, method string) (int, time.Time, error) {
	c, ok := calls[method]
	if !ok {
		return 0, time.Time{}, fmt.Errorf("unknown method %q (Version, ListPodSandbox or ListContainers)", method)
	}
	var raw []byte
	err := conn.Invoke(ctx, "/runtime.v1.RuntimeService/"+method, c.req, &raw, grpc.ForceCodec(rawCodec{}))
	arrived := time.Now()
	if err != nil {
		return 0, arrived, err
	}
	reply := c.reply()
	if err := proto.Unmarshal(raw, reply); err != nil {
		return 0, arrived, fmt.Errorf("decoding the answer: %w", err)
	}
	return c.items(reply), arrived, nil
}

func run() error {
	socket := flag.String("socket", "", "the daemon's CRI socket")
	method := flag.String("method", "ListPodSandbox", "Version, ListPodSandbox or ListContainers")
	n := flag.Int("calls", 200, "timed calls, after one untimed warm-up call")
	serveOn := flag.String("serve", "", "serve the List answers in -answers on this socket instead")
	answers := flag.String("answers", "", "with -serve: a dir with ListPodSandbox.bin and ListContainers.bin")
	flag.Parse()
	if *serveOn != "" {
		return serve(*serveOn, *answers)
	}
	if *socket == "" || *n < 1 {
		return fmt.Errorf("usage: cri_list -socket PATH [-method M] [-calls N]")
	}
	conn, err := dial(*socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res := result{Ms: make([]float64, 0, *n), ArrivedMs: make([]float64, 0, *n)}
	if res.Items, _, err = once(ctx, conn, *method); err != nil {
		return fmt.Errorf("%s: %w", *method, err)
	}
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	for i := 0; i < *n; i++ {
		start := time.Now()
		_, arrived, err := once(ctx, conn, *method)
		if err != nil {
			return fmt.Errorf("%s call %d: %w", *method, i+1, err)
		}
		res.Ms = append(res.Ms, ms(time.Since(start)))
		res.ArrivedMs = append(res.ArrivedMs, ms(arrived.Sub(start)))
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "cri_list: %v\n", err)
		os.Exit(1)
	}
}
