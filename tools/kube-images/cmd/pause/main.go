// Command pause holds a pod's namespaces open, as Kubernetes' own pause
// container does (build/pause/linux/pause.c): it sleeps until SIGINT or
// SIGTERM and reaps the children it inherits as PID 1. Written in Go so the
// test cluster's sandbox image builds offline from Go modules; it costs a
// little more resident memory than the C original (see tools/README.md).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time, as the image's tag.
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Printf("pause.go version %s\n", version)
		return
	}
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "Warning: pause should be the first process")
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)
	for {
		select {
		case s := <-stop:
			fmt.Fprintf(os.Stderr, "Shutting down, got signal: %v\n", s)
			os.Exit(0)
		case <-children:
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		}
	}
}
