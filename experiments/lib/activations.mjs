// The activity of every layer of a feed-forward sparse network for given inputs, computed in
// float64 from its exported state (Model.exportLayers()): hidden layers after their ReLU, the last
// layer's logits. The public API predicts only the output; the transfer experiment needs the
// hidden units too, and this forward pass gives them without a new native entry point (a test
// checks that its output layer's softmax is what Model.predict() returns).

/**
 * One Float64Array of `count x outputs` per layer of `layers` (exportLayers() of a network of
 * sparse_linear layers with ReLU between them, such as architecture("mlp")), for the row-major
 * float32 `inputs` of `count` samples.
 */
export function layerActivations(layers, inputs, count) {
  let x = inputs;
  return layers.map((layer, l) => {
    if (layer.positions === undefined || layer.theta === undefined)
      throw new TypeError(`layer ${l} is not a sparse_linear layer; layerActivations() takes the exportLayers() of a network of sparse_linear layers with ReLU between them`);
    if (x.length !== count * layer.inputs)
      throw new RangeError(`layer ${l} takes ${layer.inputs} inputs per sample, but its input holds ${x.length / count}`);
    const y = linear(layer, x, count);
    if (l < layers.length - 1) for (let k = 0; k < y.length; k++) y[k] = Math.max(0, y[k]);
    x = y;
    return y;
  });
}

/** y = x W + b for `count` samples, W given by the layer's active connections. */
function linear({ inputs, outputs, positions, theta, sign, bias }, x, count) {
  const y = new Float64Array(count * outputs);
  for (let n = 0; n < count; n++) {
    const row = n * outputs;
    if (bias) for (let j = 0; j < outputs; j++) y[row + j] = bias[j];
    for (let k = 0; k < theta.length; k++) y[row + positions[2 * k + 1]] += x[n * inputs + positions[2 * k]] * sign[k] * theta[k];
  }
  return y;
}
