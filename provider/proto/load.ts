// Turns the pre-parsed descriptors into gRPC service definitions (no .proto parsing at start-up).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptors from './descriptors.json' with { type: 'json' };

// keepCase: snake_case field names as on the wire; defaults: zero-valued scalars present (e.g. version 0).
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
};

export interface ServiceDefinitions {
  provider: grpc.ServiceDefinition;
  controller: grpc.ServiceDefinition;
  stdio: grpc.ServiceDefinition;
  broker: grpc.ServiceDefinition;
  health: grpc.ServiceDefinition;
}

export function loadServices(): ServiceDefinitions {
  const pkg = protoLoader.fromJSON(descriptors as never, LOADER_OPTIONS);
  const service = (name: string) => pkg[name] as grpc.ServiceDefinition;
  return {
    provider: service('tfplugin6.Provider'),
    controller: service('plugin.GRPCController'),
    stdio: service('plugin.GRPCStdio'),
    broker: service('plugin.GRPCBroker'),
    health: service('grpc.health.v1.Health'),
  };
}
