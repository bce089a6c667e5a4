// The typed part of a green thread: its function and, once it ends, its
// result or exception. spawn() places a task in the same allocation as the
// thread's TCB, so a spawn costs one allocation.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft::detail {

class task_base {
 public:
  virtual ~task_base() = default;
  // Runs the function and keeps its result or exception; never throws.
  virtual void run() noexcept = 0;
  std::exception_ptr error;
};

// Holds the result; what a weft::thread<R> handle reads after join.
template <class R>
class result_task : public task_base {
 public:
  R take() { return std::move(*result_); }

 protected:
  std::optional<R> result_;
};

template <>
class result_task<void> : public task_base {
 public:
  void take() noexcept {}
};

template <class R>
class result_task<R&> : public task_base {
 public:
  R& take() noexcept { return *result_; }

 protected:
  R* result_ = nullptr;
};

template <class F, class R>
class task final : public result_task<R> {
 public:
  // Constructs the function object from args (spawn's copy of the callable).
  template <class... X>
  explicit task(std::in_place_t, X&&... args) : fn_(std::forward<X>(args)...) {}
  void run() noexcept override {
    try {
      if constexpr (std::is_void_v<R>) {
        std::move(fn_)();
      } else if constexpr (std::is_reference_v<R>) {
        this->result_ = &std::move(fn_)();
      } else {
        this->result_.emplace(std::move(fn_)());
      }
    } catch (...) {
      this->error = std::current_exception();
    }
  }

 private:
  F fn_;
};

}  // namespace weft::detail
