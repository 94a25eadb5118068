// Package racetest helps tests that race operations against each other.
package racetest

import "sync"

// Together runs fn(0) ... fn(n-1) on n goroutines released at the same
// moment, and waits for all of them.
func Together(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
