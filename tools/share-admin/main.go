// ebb-share-admin answers ebb's questions about share groups (KIP-932) that librdkafka's admin API
// cannot: who is in a share group (ShareGroupDescribe) and where each share partition starts and how
// much is left in it (DescribeShareGroupOffsets, whose v1 carries the broker's own lag, KIP-1226).
//
// It speaks JSON lines on stdin/stdout so that one long-lived process serves a lag exporter or a
// control loop: the first line is the client configuration ({"properties": {librdkafka key: value}}),
// read from stdin so that secrets never reach argv; every later line is a request
// ({"op": "describe", "group": "G"}, or "members" for the members alone) answered by one line. The configuration line is answered too
// ({"ok": true}, or the reason it was refused). It exits when stdin closes.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

type configLine struct {
	Properties map[string]string `json:"properties"`
}

type request struct {
	Op    string `json:"op"`
	Group string `json:"group"`
}

type partitionRef struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

type member struct {
	MemberID   string         `json:"member_id"`
	ClientID   string         `json:"client_id"`
	Host       string         `json:"host"`
	Assignment []partitionRef `json:"assignment"`
}

type offset struct {
	Topic       string `json:"topic"`
	Partition   int32  `json:"partition"`
	StartOffset int64  `json:"start_offset"`
	Lag         int64  `json:"lag"`
	Error       string `json:"error,omitempty"`
}

type response struct {
	OK      bool     `json:"ok"`
	Error   string   `json:"error,omitempty"`
	Code    string   `json:"code,omitempty"` // Kafka's error name, when the broker gave one
	Group   string   `json:"group,omitempty"`
	State   string   `json:"state,omitempty"`
	Members []member `json:"members"`
	Offsets []offset `json:"offsets"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	if !in.Scan() {
		fail(out, "expected the client configuration as the first line")
	}
	var cfg configLine
	if err := json.Unmarshal(in.Bytes(), &cfg); err != nil {
		fail(out, "the configuration line is not JSON: "+err.Error())
	}
	opts, timeout, err := clientOptions(cfg.Properties)
	if err != nil {
		fail(out, err.Error())
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		fail(out, err.Error())
	}
	defer client.Close()
	// The configuration is accepted: say so, so that the caller can tell a bad setting (above)
	// from a cluster that does not answer (later, per request).
	if err := out.Encode(response{OK: true}); err != nil {
		os.Exit(1)
	}
	admin := kadm.NewClient(client)
	for in.Scan() {
		var req request
		var resp response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp = response{Error: "request is not JSON: " + err.Error()}
		} else {
			resp = answer(admin, req, timeout)
		}
		if err := out.Encode(resp); err != nil {
			os.Exit(1)
		}
	}
}

// fail answers the configuration line with the reason it was refused, and exits.
func fail(out *json.Encoder, reason string) {
	_ = out.Encode(response{Error: reason})
	os.Exit(2)
}

func answer(admin *kadm.Client, req request, timeout time.Duration) response {
	if req.Op != "describe" && req.Op != "members" {
		return response{Error: fmt.Sprintf("unknown op %q (known: describe, members)", req.Op)}
	}
	if req.Group == "" {
		return response{Error: req.Op + " needs a group"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	described, err := admin.DescribeShareGroups(ctx, req.Group)
	if err == nil {
		err = described.Error()
	}
	if err != nil {
		return failure(err)
	}
	group := described[req.Group]
	resp := response{OK: true, Group: req.Group, State: group.GroupState, Members: members(group),
		Offsets: []offset{}}
	if req.Op == "members" {
		return resp
	}
	offsets, err := admin.DescribeShareGroupOffsets(ctx, req.Group)
	if err == nil {
		err = offsets.Error()
	}
	if err != nil {
		return failure(err)
	}
	for _, topic := range offsets[req.Group].Offsets {
		for _, o := range topic {
			row := offset{Topic: o.Topic, Partition: o.Partition, StartOffset: o.StartOffset, Lag: o.Lag}
			if o.Err != nil {
				row.Error = o.Err.Error()
			}
			resp.Offsets = append(resp.Offsets, row)
		}
	}
	sort.Slice(resp.Offsets, func(i, j int) bool {
		a, b := resp.Offsets[i], resp.Offsets[j]
		return a.Topic < b.Topic || (a.Topic == b.Topic && a.Partition < b.Partition)
	})
	return resp
}

func members(group kadm.DescribedShareGroup) []member {
	result := []member{}
	for _, m := range group.Members {
		row := member{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost,
			Assignment: []partitionRef{}}
		for topic, partitions := range m.Assignment {
			for p := range partitions {
				row.Assignment = append(row.Assignment, partitionRef{Topic: topic, Partition: p})
			}
		}
		sort.Slice(row.Assignment, func(i, j int) bool {
			a, b := row.Assignment[i], row.Assignment[j]
			return a.Topic < b.Topic || (a.Topic == b.Topic && a.Partition < b.Partition)
		})
		result = append(result, row)
	}
	return result
}

func failure(err error) response {
	resp := response{Error: err.Error()}
	var kafkaErr *kerr.Error
	switch {
	case errors.As(err, &kafkaErr):
		resp.Code = kafkaErr.Message
	case strings.Contains(err.Error(), "broker is too old"):
		// franz-go's words for a broker that does not list the request's API (share.version 0).
		resp.Code = "UNSUPPORTED_VERSION"
	}
	return resp
}

// clientOptions maps the librdkafka properties ebb was given to franz-go's options. What the helper
// cannot honour is an error, never silently ignored: a security setting dropped would connect
// differently from ebb's own clients.
func clientOptions(props map[string]string) ([]kgo.Opt, time.Duration, error) {
	servers := props["bootstrap.servers"]
	if servers == "" {
		return nil, 0, errors.New("bootstrap.servers is not set")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(servers, ",")...)}
	if id := props["client.id"]; id != "" {
		opts = append(opts, kgo.ClientID(id))
	}
	timeout := 10 * time.Second
	if ms := props["socket.timeout.ms"]; ms != "" {
		n, err := strconv.Atoi(ms)
		if err != nil || n <= 0 {
			return nil, 0, fmt.Errorf("socket.timeout.ms: %q is not a positive number of milliseconds", ms)
		}
		timeout = time.Duration(n) * time.Millisecond
	}
	opts = append(opts, kgo.DialTimeout(timeout), kgo.RequestRetries(2))
	protocol := strings.ToLower(props["security.protocol"])
	switch protocol {
	case "", "plaintext", "sasl_plaintext":
	case "ssl", "sasl_ssl":
		tlsConfig, err := tlsSettings(props)
		if err != nil {
			return nil, 0, err
		}
		dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: tlsConfig}
		opts = append(opts, kgo.Dialer(dialer.DialContext))
	default:
		return nil, 0, fmt.Errorf("security.protocol %q is not one of plaintext, ssl, sasl_plaintext, sasl_ssl", protocol)
	}
	if strings.HasPrefix(protocol, "sasl_") {
		mechanism, err := saslMechanism(props)
		if err != nil {
			return nil, 0, err
		}
		opts = append(opts, mechanism)
	}
	return opts, timeout, nil
}

func saslMechanism(props map[string]string) (kgo.Opt, error) {
	user, pass := props["sasl.username"], props["sasl.password"]
	switch name := strings.ToUpper(props["sasl.mechanism"]); name {
	case "", "PLAIN":
		return kgo.SASL(plain.Auth{User: user, Pass: pass}.AsMechanism()), nil
	case "SCRAM-SHA-256":
		return kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()), nil
	case "SCRAM-SHA-512":
		return kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()), nil
	default:
		return nil, fmt.Errorf("sasl.mechanism %q is not supported for share groups (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", name)
	}
}

func tlsSettings(props map[string]string) (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if path := props["ssl.ca.location"]; path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ssl.ca.location: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ssl.ca.location: no PEM certificate in %s", path)
		}
		config.RootCAs = pool
	}
	cert, key := props["ssl.certificate.location"], props["ssl.key.location"]
	if cert != "" || key != "" {
		if props["ssl.key.password"] != "" {
			return nil, errors.New("ssl.key.password: encrypted client keys are not supported for share groups")
		}
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("ssl.certificate.location/ssl.key.location: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	if strings.EqualFold(props["enable.ssl.certificate.verification"], "false") {
		config.InsecureSkipVerify = true
	}
	return config, nil
}
