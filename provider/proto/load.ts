// gRPC service definitions from the pre-parsed descriptors. Built directly on protobufjs reflection:
// @grpc/proto-loader would also build reflection file descriptors, ~25 ms of start-up for nothing here.
import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs/light.js';
import descriptors from './descriptors.json' with { type: 'json' };

// Snake_case field names as on the wire (the descriptors keep them); zero-valued scalars present
// (UpgradeResourceState.version 0 must not be undefined); 64-bit integers as numbers; enums as names.
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

export interface ServiceDefinitions {
  provider: grpc.ServiceDefinition;
  controller: grpc.ServiceDefinition;
  stdio: grpc.ServiceDefinition;
  broker: grpc.ServiceDefinition;
  health: grpc.ServiceDefinition;
}

function serializer(type: protobuf.Type) {
  return (value: object): Buffer => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish());
}

function deserializer(type: protobuf.Type) {
  return (bytes: Buffer): object => type.toObject(type.decode(bytes), TO_OBJECT);
}

function serviceDefinition(root: protobuf.Root, name: string): grpc.ServiceDefinition {
  const service = root.lookupService(name);
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = method.resolvedRequestType!;
    const response = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${name}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: method.name,
    };
  }
  return definition as grpc.ServiceDefinition;
}

export function loadServices(): ServiceDefinitions {
  const root = protobuf.Root.fromJSON(descriptors as protobuf.INamespace);
  return {
    provider: serviceDefinition(root, 'tfplugin6.Provider'),
    controller: serviceDefinition(root, 'plugin.GRPCController'),
    stdio: serviceDefinition(root, 'plugin.GRPCStdio'),
    broker: serviceDefinition(root, 'plugin.GRPCBroker'),
    health: serviceDefinition(root, 'grpc.health.v1.Health'),
  };
}
