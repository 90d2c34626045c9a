package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
)

// rawClient is a lean HTTP/1.1 keep-alive client over one connection: it
// writes prepared requests and reads answers with http.ReadResponse. It
// exists so that the load generator of http_single, which shares the
// machine with the server, costs a fraction of what net/http's client
// does (a transport with two goroutines per connection), leaving the CPU
// to what is measured. Not safe for concurrent use.
type rawClient struct {
	conn net.Conn
	r    *bufio.Reader
	head []byte // request line and headers up to Content-Length's value
}

// dialRaw connects to base (http://host:port) for POSTs of path.
func dialRaw(base, path, token, contentType string) (*rawClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: %s\r\nContent-Length: ", path, u.Host, token, contentType)
	return &rawClient{conn: conn, r: bufio.NewReaderSize(conn, 4096), head: head}, nil
}

// post sends body and waits for the answer, which must be 202.
func (c *rawClient) post(body []byte) error {
	req := make([]byte, 0, len(c.head)+len(body)+16)
	req = append(req, c.head...)
	req = strconv.AppendInt(req, int64(len(body)), 10)
	req = append(req, "\r\n\r\n"...)
	req = append(req, body...)
	if _, err := c.conn.Write(req); err != nil {
		return err
	}

	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("post answered %s", resp.Status)
	}
	return nil
}

func (c *rawClient) close() { c.conn.Close() }
