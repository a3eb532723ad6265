package outbound

import "syscall"

// Control runs the dialer's net.Dialer Control hook on address as the
// dialer would just before connecting, without a socket.
func (d *Dialer) Control(network, address string) error {
	return d.control(network, address, syscall.RawConn(nil))
}
