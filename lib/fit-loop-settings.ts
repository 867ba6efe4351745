// The training loop's own settings, declared as the rules' hyper-parameters are (lib/rules/
// declaration.ts): how long to train, the samples per step, the learning-rate schedule over the
// epochs, the clipping of each step's gradients, the augmentation of image samples
// (lib/image-augmentation.ts) and the invariant checks after every step.
export const epochs = {
  option: "epochs", flag: "epochs", part: "loop", type: "integer", default: 10, min: 0, max: 1_000_000, placeholder: "N",
  help: "epochs to complete, counting those already trained",
} as const;

export const lrSchedule = {
  option: "lrSchedule", flag: "lr-schedule", part: "loop", type: "choice", choices: ["exponential", "cosine"], default: "exponential",
  help: "exponential: lr * decay^epoch; cosine: to 0 along half a cosine",
} as const;

export const lrDecay = {
  option: "lrDecay", flag: "lr-decay", part: "loop", type: "real", default: 0.8, min: 0, max: 1, minOpen: true, placeholder: "X",
  help: "factor per epoch of the exponential schedule",
} as const;

export const batchSize = {
  option: "batchSize", flag: "batch-size", part: "loop", type: "integer", default: 10, min: 1, max: 1 << 20, placeholder: "N",
  help: "samples per step",
} as const;

// The core's clipping by global norm (Pascanu et al. 2013), applied to every update rule before
// its optimiser: rare exploding gradients of a recurrent network cannot throw it far in one step.
export const clipNorm = {
  option: "clipNorm", flag: "clip-norm", part: "loop", type: "real", default: 0, min: 0, max: 1_000_000, placeholder: "X",
  defaultNote: "off",
  help: "scale each step's gradients down to this global norm if larger",
} as const;

export const crop = {
  option: "crop", flag: "crop", part: "loop", type: "integer", default: 0, min: 0, max: 1024, placeholder: "N",
  defaultNote: "off",
  help: "images: pad by N zeros, crop back at a random offset, each epoch",
} as const;

export const flip = {
  option: "flip", flag: "flip", part: "loop", type: "boolean", default: false,
  help: "images: mirror left-right with probability 1/2, each epoch",
} as const;

export const checkInvariants = {
  option: "checkInvariants", flag: "check-invariants", part: "loop", type: "boolean", default: false,
  help: "verify exactly K active, no duplicates, indices in range after every step",
} as const;
