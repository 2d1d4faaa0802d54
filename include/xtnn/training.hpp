/// @file
/// Part header: trainer (fit, evaluate), history and every callback (early stopping, learning
/// rate schedules, checkpoints, progress, NaN): with model, layers, losses, optimizers and
/// metrics, what a training program needs.
#pragma once

#include <xtnn/io/model_checkpoint.hpp>
#include <xtnn/model/callbacks/callback.hpp>
#include <xtnn/model/callbacks/early_stopping.hpp>
#include <xtnn/model/callbacks/learning_rate_schedules.hpp>
#include <xtnn/model/callbacks/monitor.hpp>
#include <xtnn/model/callbacks/progress_bar.hpp>
#include <xtnn/model/callbacks/terminate_on_nan.hpp>
#include <xtnn/model/history.hpp>
#include <xtnn/model/trainer.hpp>
