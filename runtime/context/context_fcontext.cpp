// Boost.Context backend. fcontext hands the *suspended* side's context to the
// side it resumes, so every jump carries a pointer to the jumper's
// switch_args and the resumed side stores the returned fcontext there.
#include <boost/context/detail/fcontext.hpp>

#include "context/context.hpp"

namespace weft::detail {
namespace bc = boost::context::detail;

namespace {
struct switch_args {
  context* from;
  context* to;
  void* pass;
};

void fcontext_entry(bc::transfer_t t) {
  auto* args = static_cast<switch_args*>(t.data);
  args->from->sp = t.fctx;
  context* self = args->to;
  self->entry(self->arg, args->pass);
  __builtin_trap();  // entries never return
}
}  // namespace

void context_make(context& ctx, void* stack_hi, std::size_t size, context_entry entry, void* arg) noexcept {
  ctx.entry = entry;
  ctx.arg = arg;
  ctx.sp = bc::make_fcontext(stack_hi, size, &fcontext_entry);
}

void* context_switch(context& from, context& to, void* pass) noexcept {
  switch_args args{&from, &to, pass};
  bc::transfer_t t = bc::jump_fcontext(static_cast<bc::fcontext_t>(to.sp), &args);
  auto* resumer = static_cast<switch_args*>(t.data);
  resumer->from->sp = t.fctx;
  return resumer->pass;
}

const char* context_backend_name() noexcept { return "boost-fcontext"; }

}  // namespace weft::detail
