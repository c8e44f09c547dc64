package main

// The transport's floor under the List calls: a Go gRPC server that answers each List method
// with bytes encoded before it started (the answers a daemon had just given). It does no work
// per call beyond gRPC itself, so what a call to it takes is the machine's and the transport's,
// with the same client on the same node.

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const servicePrefix = "/runtime.v1.RuntimeService/"

// loadAnswers reads <dir>/<Method>.bin for each List method.
func loadAnswers(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, m := range []string{"ListPodSandbox", "ListContainers"} {
		b, err := os.ReadFile(filepath.Join(dir, m+".bin"))
		if err != nil {
			return nil, fmt.Errorf("the answer of %s: %w", m, err)
		}
		out[servicePrefix+m] = b
	}
	return out, nil
}

func serve(socket, dir string) error {
	answers, err := loadAnswers(dir)
	if err != nil {
		return err
	}
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	s := grpc.NewServer(
		grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxSendMsgSize(16*1024*1024),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			method, _ := grpc.MethodFromServerStream(stream)
			answer, ok := answers[method]
			if !ok {
				return status.Errorf(codes.Unimplemented, "%s is not served here", strings.TrimPrefix(method, servicePrefix))
			}
			var req []byte
			if err := stream.RecvMsg(&req); err != nil {
				return err
			}
			return stream.SendMsg(&answer)
		}),
	)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		// Stop closes the listener, which removes the socket file.
		s.Stop()
	}()
	return s.Serve(l)
}
