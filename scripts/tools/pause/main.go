// pause: the process that holds a pod's sandbox on smelt's real node (containerd's sandbox_image).
// It is PID 1 of the pod: it sleeps, reaps orphans, and exits 0 on SIGINT or SIGTERM. Built static
// (CGO_ENABLED=0) by scripts/tools/install.sh into a FROM-scratch image by scripts/node/images.sh.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for { // reap every exited child
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
