package broker

// InterBrokerPort is the port of the listener that brokers use among themselves, on each broker's
// address on the cluster network: followers fetch from leaders there, the controller sends its
// requests there and brokers send theirs to the controller there. Faults that cut replication but
// not the rest of a broker's traffic (package nemesis) match it.
const InterBrokerPort = internalPort

// ControllerPort is the port of the KRaft controller listener, on each controller's address on the
// cluster network: voters replicate the metadata log and brokers heartbeat there. Faults that cut
// a controller off (package nemesis) match it.
const ControllerPort = controllerPort

// NodeName returns the stable node name of Kafka node id, in either metadata mode and controller
// placement: a broker (n1, n2, ... for ids 1..) or a dedicated KRaft controller (c1, c2, ... for
// ids ControllerIDBase+1..). It names what the active controller's id, as Describe reports it,
// points at without a running cluster; Cluster.NodeByID finds the node itself.
func NodeName(id int) string {
	if id > ControllerIDBase {
		return ControllerName(id - ControllerIDBase)
	}
	return BrokerName(id)
}
