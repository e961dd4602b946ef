/** @file dd_exp.cpp
 * exp for dd_real: see dd_exp.hpp for the algorithm and the error bound. The constants were
 * generated with MPFR (400 bits) and are correctly rounded to double (the table entries to
 * double-double); the split columns are Dekker's split of the high word.
 */
#include "ntp/dd_exp.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace ntp {
namespace {

/** 2^(j/256) = hi + lo (hi = RN(2^(j/256)), lo = RN(2^(j/256) - hi)), and hi = hs + ls with hs,
 * ls of 26 bits (Dekker's split, so that the product with another split double is exact). */
struct TableEntry {
  double hi, lo, hs, ls;
};

alignas(64) constexpr TableEntry kTable[256] = {
    {0x1p+0, 0x0p+0, 0x1p+0, 0x0p+0},
    {0x1.00b1afa5abcbfp+0, -0x1.4f6b2a7609f71p-55, 0x1.00b1af8p+0, 0x1.2d5e5f8p-27},
    {0x1.0163da9fb3335p+0, 0x1.b61299ab8cdb7p-54, 0x1.0163da8p+0, 0x1.fb3335p-28},
    {0x1.02168143b0281p+0, -0x1.2bf310fc54eb6p-55, 0x1.0216818p+0, -0x1.e27ebf8p-27},
    {0x1.02c9a3e778061p+0, -0x1.19083535b085dp-56, 0x1.02c9a4p+0, -0x1.887f9fp-28},
    {0x1.037d42e11bbccp+0, 0x1.56811eeade11ap-57, 0x1.037d43p+0, -0x1.ee4434p-28},
    {0x1.04315e86e7f85p+0, -0x1.0a31c1977c96ep-54, 0x1.04315e8p+0, 0x1.b9fe14p-30},
    {0x1.04e5f72f654b1p+0, 0x1.4c3793aa0d08dp-55, 0x1.04e5f7p+0, 0x1.7b2a588p-27},
    {0x1.059b0d3158574p+0, 0x1.d73e2a475b465p-55, 0x1.059b0dp+0, 0x1.8ac2bap-27},
    {0x1.0650a0e3c1f89p+0, -0x1.5cb7b5799c397p-54, 0x1.0650a1p+0, -0x1.c3e077p-28},
    {0x1.0706b29ddf6dep+0, -0x1.c91dfe2b13c27p-55, 0x1.0706b28p+0, 0x1.ddf6dep-28},
    {0x1.07bd42b72a836p+0, 0x1.32334544587p-55, 0x1.07bd428p+0, 0x1.b9541bp-27},
    {0x1.0874518759bc8p+0, 0x1.186be4bb284ffp-57, 0x1.0874518p+0, 0x1.d66f2p-30},
    {0x1.092bdf66607ep+0, -0x1.68063800a3fd1p-54, 0x1.092bdf8p+0, -0x1.99f82p-28},
    {0x1.09e3ecac6f383p+0, 0x1.1487818316136p-54, 0x1.09e3ec8p+0, 0x1.6379c18p-27},
    {0x1.0a9c79b1f3919p+0, 0x1.5d16c873d1d38p-55, 0x1.0a9c798p+0, 0x1.8f9c8c8p-27},
    {0x1.0b5586cf9890fp+0, 0x1.8a62e4adc610bp-54, 0x1.0b5587p+0, -0x1.833b788p-27},
    {0x1.0c0f145e46c85p+0, 0x1.4f98906d21cefp-54, 0x1.0c0f148p+0, -0x1.0dc9bd8p-27},
    {0x1.0cc922b7247f7p+0, 0x1.01edc16e24f71p-54, 0x1.0cc9228p+0, 0x1.b923fb8p-27},
    {0x1.0d83b23395decp+0, -0x1.bc14de43f316ap-54, 0x1.0d83b2p+0, 0x1.9caef6p-27},
    {0x1.0e3ec32d3d1a2p+0, 0x1.03a1727c57b53p-59, 0x1.0e3ec3p+0, 0x1.69e8d1p-27},
    {0x1.0efa55fdfa9c5p+0, -0x1.49db9bc54021bp-54, 0x1.0efa56p+0, -0x1.02b1d8p-31},
    {0x1.0fb66affed31bp+0, -0x1.b9bedc44ebd7bp-57, 0x1.0fb66bp+0, -0x1.2ce5p-36},
    {0x1.1073028d7233ep+0, 0x1.d46eb1692fdd5p-55, 0x1.1073028p+0, 0x1.ae467cp-29},
    {0x1.11301d0125b51p+0, -0x1.6c51039449b3ap-54, 0x1.11301dp+0, 0x1.25b51p-32},
    {0x1.11edbab5e2ab6p+0, -0x1.ca454f703fb72p-54, 0x1.11edba8p+0, 0x1.af155bp-27},
    {0x1.12abdc06c31ccp+0, -0x1.1b514b36ca5c7p-58, 0x1.12abdcp+0, 0x1.b0c73p-30},
    {0x1.136a814f204abp+0, -0x1.7108fba48dcfp-57, 0x1.136a818p+0, -0x1.86fdaa8p-27},
    {0x1.1429aaea92dep+0, -0x1.32fbf9af1369ep-54, 0x1.1429abp+0, -0x1.56d22p-28},
    {0x1.14e95934f312ep+0, -0x1.b91e839bf44abp-55, 0x1.14e959p+0, 0x1.a79897p-27},
    {0x1.15a98c8a58e51p+0, 0x1.2406ab9eeab0ap-55, 0x1.15a98c8p+0, 0x1.4b1ca2p-29},
    {0x1.166a45471c3c2p+0, 0x1.8f23b82ea1a32p-58, 0x1.166a458p+0, -0x1.c71e1fp-27},
    {0x1.172b83c7d517bp+0, -0x1.19041b9d78a76p-55, 0x1.172b84p+0, -0x1.c157428p-27},
    {0x1.17ed48695bbcp+0, 0x1.09e3fe2ac5a64p-56, 0x1.17ed488p+0, -0x1.6a444p-28},
    {0x1.18af9388c8deap+0, -0x1.11023d1970f6cp-54, 0x1.18af938p+0, 0x1.191bd4p-29},
    {0x1.1972658375d2fp+0, 0x1.4aadd85f17e08p-54, 0x1.1972658p+0, 0x1.bae978p-31},
    {0x1.1a35beb6fcb75p+0, 0x1.e5b4c7b4968e4p-55, 0x1.1a35be8p+0, 0x1.b7e5ba8p-27},
    {0x1.1af99f8138a1cp+0, 0x1.7bf85a4b6928p-54, 0x1.1af99f8p+0, 0x1.38a1cp-32},
    {0x1.1bbe084045cd4p+0, -0x1.95386352ef607p-54, 0x1.1bbe088p+0, -0x1.fdd196p-27},
    {0x1.1c82f95281c6bp+0, 0x1.009778010f8c9p-54, 0x1.1c82f98p+0, -0x1.6bf1ca8p-27},
    {0x1.1d4873168b9aap+0, 0x1.e016e00a2643cp-54, 0x1.1d4873p+0, 0x1.68b9aap-28},
    {0x1.1e0e75eb44027p+0, -0x1.6fdd8088cb6dep-54, 0x1.1e0e76p+0, -0x1.4bbfd9p-28},
    {0x1.1ed5022fcd91dp+0, -0x1.1df98027bb78cp-54, 0x1.1ed502p+0, 0x1.7e6c8e8p-27},
    {0x1.1f9c18438ce4dp+0, -0x1.bf524a097af5cp-54, 0x1.1f9c188p+0, -0x1.e398d98p-27},
    {0x1.2063b88628cd6p+0, 0x1.dc775814a8495p-55, 0x1.2063b88p+0, 0x1.8a3358p-30},
    {0x1.212be3578a819p+0, 0x1.3592d2cfcaac9p-54, 0x1.212be38p+0, -0x1.43abf38p-27},
    {0x1.21f49917ddc96p+0, 0x1.2a97e9494a5eep-55, 0x1.21f499p+0, 0x1.7ddc96p-28},
    {0x1.22bdda27912d1p+0, 0x1.d34fb5577d69fp-55, 0x1.22bddap+0, 0x1.3c89688p-27},
    {0x1.2387a6e756238p+0, 0x1.9b07eb6c70573p-54, 0x1.2387a7p+0, -0x1.8a9dc8p-28},
    {0x1.2451ffb82140ap+0, 0x1.acfcc911ca996p-55, 0x1.2451ff8p+0, 0x1.c10a05p-27},
    {0x1.251ce4fb2a63fp+0, 0x1.ac155bef4f4a4p-55, 0x1.251ce5p+0, -0x1.356704p-30},
    {0x1.25e85711ece75p+0, 0x1.3e1a24ac31b2cp-54, 0x1.25e857p+0, 0x1.1ece75p-28},
    {0x1.26b4565e27cddp+0, 0x1.2bd339940e9d9p-55, 0x1.26b4568p+0, -0x1.0ec1918p-27},
    {0x1.2780e341ddf29p+0, 0x1.e067c05f9e76cp-54, 0x1.2780e38p+0, -0x1.f1106b8p-27},
    {0x1.284dfe1f56381p+0, -0x1.a4c3a8c3f0d7ep-54, 0x1.284dfep+0, 0x1.f56381p-28},
    {0x1.291ba7591bb7p+0, -0x1.2cc7228401cbdp-55, 0x1.291ba78p+0, -0x1.372248p-27},
    {0x1.29e9df51fdee1p+0, 0x1.612e8afad1255p-55, 0x1.29e9df8p+0, -0x1.70108f8p-27},
    {0x1.2ab8a66d10f13p+0, -0x1.95743191690a7p-54, 0x1.2ab8a68p+0, -0x1.2ef0edp-28},
    {0x1.2b87fd0dad99p+0, -0x1.10adcd6381aa4p-59, 0x1.2b87fdp+0, 0x1.b5b32p-29},
    {0x1.2c57e39771b2fp+0, -0x1.50145a6eb5124p-54, 0x1.2c57e38p+0, 0x1.771b2fp-28},
    {0x1.2d285a6e4030bp+0, 0x1.0024754db41d5p-54, 0x1.2d285a8p+0, -0x1.1bfcf5p-28},
    {0x1.2df961f641589p+0, 0x1.d16cffbbce198p-54, 0x1.2df962p+0, -0x1.37d4eep-29},
    {0x1.2ecafa93e2f56p+0, 0x1.1ca0f45d52383p-56, 0x1.2ecafa8p+0, 0x1.3e2f56p-28},
    {0x1.2f9d24abd886bp+0, -0x1.53c55532bda93p-57, 0x1.2f9d248p+0, 0x1.5ec4358p-27},
    {0x1.306fe0a31b715p+0, 0x1.6f46ad23182e4p-55, 0x1.306fe08p+0, 0x1.18db8a8p-27},
    {0x1.31432edeeb2fdp+0, 0x1.959a3f3f3fcd1p-55, 0x1.31432fp+0, -0x1.08a6818p-27},
    {0x1.32170fc4cd831p+0, 0x1.a9ce78e18047cp-55, 0x1.32171p+0, -0x1.d993e78p-27},
    {0x1.32eb83ba8ea32p+0, -0x1.c45e83cb4f318p-54, 0x1.32eb838p+0, 0x1.d47519p-27},
    {0x1.33c08b26416ffp+0, 0x1.32721843659a6p-54, 0x1.33c08bp+0, 0x1.320b7f8p-27},
    {0x1.3496266e3fa2dp+0, -0x1.35a75930881a4p-55, 0x1.3496268p+0, -0x1.1c05d3p-28},
    {0x1.356c55f929ff1p+0, -0x1.b5cee5c4e4628p-55, 0x1.356c56p+0, -0x1.b5803cp-30},
    {0x1.36431a2de883bp+0, -0x1.c3144a06cb85ep-55, 0x1.36431ap+0, 0x1.6f441d8p-27},
    {0x1.371a7373aa9cbp+0, -0x1.63aeabf42eae2p-54, 0x1.371a738p+0, -0x1.8aac6ap-29},
    {0x1.37f26231e754ap+0, -0x1.9f5ca9eceb23cp-54, 0x1.37f262p+0, 0x1.8f3aa5p-27},
    {0x1.38cae6d05d866p+0, -0x1.e958d3c9904bdp-54, 0x1.38cae7p+0, -0x1.7d13cdp-27},
    {0x1.39a401b7140efp+0, -0x1.9a9a5fc8e2934p-54, 0x1.39a4018p+0, 0x1.b8a0778p-27},
    {0x1.3a7db34e59ff7p+0, -0x1.5e436d661f5e3p-56, 0x1.3a7db38p+0, -0x1.8d30048p-27},
    {0x1.3b57fbfec6cf4p+0, 0x1.54c66e26fff18p-54, 0x1.3b57fcp+0, -0x1.3930cp-32},
    {0x1.3c32dc313a8e5p+0, -0x1.efff8375d29c3p-54, 0x1.3c32dcp+0, 0x1.89d4728p-27},
    {0x1.3d0e544ede173p+0, 0x1.fe8d08c284c71p-56, 0x1.3d0e548p+0, -0x1.890f468p-27},
    {0x1.3dea64c123422p+0, 0x1.ada0911f09ebcp-55, 0x1.3dea65p+0, -0x1.f6e5efp-27},
    {0x1.3ec70df1c5175p+0, -0x1.af6637b8c9bcap-55, 0x1.3ec70ep+0, -0x1.c75d16p-29},
    {0x1.3fa4504ac801cp+0, -0x1.7d023f956f9f3p-54, 0x1.3fa4508p+0, -0x1.a9bff2p-27},
    {0x1.40822c367a024p+0, 0x1.bddf8b6f4d048p-55, 0x1.40822cp+0, 0x1.b3d012p-27},
    {0x1.4160a21f72e2ap+0, -0x1.ef3691c309278p-58, 0x1.4160a2p+0, 0x1.f72e2ap-28},
    {0x1.423fb2709468ap+0, -0x1.8462dc0b314ddp-54, 0x1.423fb28p+0, -0x1.ed72ecp-29},
    {0x1.431f5d950a897p+0, -0x1.1c7dde35f7999p-55, 0x1.431f5d8p+0, 0x1.50a897p-28},
    {0x1.43ffa3f84b9d4p+0, 0x1.880be9704c003p-55, 0x1.43ffa4p+0, -0x1.ed18bp-30},
    {0x1.44e086061892dp+0, 0x1.89b7a04ef80dp-59, 0x1.44e086p+0, 0x1.8624b4p-30},
    {0x1.45c2042a7d232p+0, -0x1.8641982fb1f8ep-57, 0x1.45c204p+0, 0x1.53e919p-27},
    {0x1.46a41ed1d0057p+0, 0x1.c944bd1648a76p-54, 0x1.46a41fp+0, -0x1.717fd48p-27},
    {0x1.4786d668b3237p+0, -0x1.c20f0ed445733p-54, 0x1.4786d68p+0, -0x1.74cdc9p-28},
    {0x1.486a2b5c13cdp+0, 0x1.3c1a3b69062fp-56, 0x1.486a2b8p+0, -0x1.1f6198p-27},
    {0x1.494e1e192aed2p+0, -0x1.3b2895e499eap-55, 0x1.494e1ep+0, 0x1.92aed2p-28},
    {0x1.4a32af0d7d3dep+0, 0x1.9cb62f3d1be56p-54, 0x1.4a32afp+0, 0x1.afa7bcp-29},
    {0x1.4b17dea6db7d7p+0, -0x1.125b87f2897fp-55, 0x1.4b17de8p+0, 0x1.36dbeb8p-27},
    {0x1.4bfdad5362a27p+0, 0x1.d4397afec42e2p-56, 0x1.4bfdad8p+0, -0x1.64eaec8p-27},
    {0x1.4ce41b817c114p+0, 0x1.05e29690abd5dp-54, 0x1.4ce41b8p+0, 0x1.7c114p-32},
    {0x1.4dcb299fddd0dp+0, 0x1.8ecdbbc6a7833p-54, 0x1.4dcb298p+0, 0x1.fddd0dp-28},
    {0x1.4eb2d81d8abffp+0, -0x1.5257d2e5d7a52p-54, 0x1.4eb2d8p+0, 0x1.d8abffp-28},
    {0x1.4f9b2769d2ca7p+0, -0x1.4b309d25957e3p-54, 0x1.4f9b278p+0, -0x1.62d359p-28},
    {0x1.508417f4531eep+0, 0x1.a249b49b7465fp-56, 0x1.508418p+0, -0x1.759c24p-29},
    {0x1.516daa2cf6642p+0, -0x1.f768569bd93efp-55, 0x1.516daap+0, 0x1.67b321p-27},
    {0x1.5257de83f4eefp+0, -0x1.c998d43efef71p-56, 0x1.5257de8p+0, 0x1.fa7778p-31},
    {0x1.5342b569d4f82p+0, -0x1.07abe1db13cadp-55, 0x1.5342b58p+0, -0x1.62b07ep-28},
    {0x1.542e2f4f6ad27p+0, 0x1.7926d192d5f7ep-55, 0x1.542e2f8p+0, -0x1.84a96c8p-27},
    {0x1.551a4ca5d920fp+0, -0x1.d689cefede59bp-55, 0x1.551a4c8p+0, 0x1.2ec9078p-27},
    {0x1.56070dde910d2p+0, -0x1.0fb6e168eebfp-54, 0x1.56070ep+0, -0x1.0b7797p-27},
    {0x1.56f4736b527dap+0, 0x1.9bb2c011d93adp-54, 0x1.56f4738p+0, -0x1.4ad826p-28},
    {0x1.57e27dbe2c4cfp+0, -0x1.0b98c8a57b9c4p-54, 0x1.57e27d8p+0, 0x1.f162678p-27},
    {0x1.58d12d497c7fdp+0, 0x1.295e15b9a1de8p-55, 0x1.58d12d8p+0, -0x1.b41c018p-27},
    {0x1.59c0827ff07ccp+0, -0x1.7e2cee467e60fp-54, 0x1.59c0828p+0, -0x1.f068p-37},
    {0x1.5ab07dd485429p+0, 0x1.6324c054647adp-54, 0x1.5ab07ep+0, -0x1.5bd5eb8p-27},
    {0x1.5ba11fba87a03p+0, -0x1.b77a14c233e1ap-54, 0x1.5ba11f8p+0, 0x1.d43d018p-27},
    {0x1.5c9268a5946b7p+0, 0x1.c4b1b816986a2p-60, 0x1.5c92688p+0, 0x1.2ca35b8p-27},
    {0x1.5d84590998b93p+0, -0x1.cd6a7a8b45643p-54, 0x1.5d8459p+0, 0x1.331726p-29},
    {0x1.5e76f15ad2148p+0, 0x1.ba6f93080e65ep-54, 0x1.5e76f18p+0, -0x1.296f5cp-27},
    {0x1.5f6a320dceb71p+0, -0x1.9eadde3cdcf92p-55, 0x1.5f6a32p+0, 0x1.b9d6e2p-29},
    {0x1.605e1b976dc09p+0, -0x1.3e2429b56de47p-54, 0x1.605e1b8p+0, 0x1.76dc09p-28},
    {0x1.6152ae6cdf6f4p+0, 0x1.e4b3e4ab84c27p-54, 0x1.6152ae8p+0, -0x1.32090cp-28},
    {0x1.6247eb03a5585p+0, -0x1.383c17e40b497p-54, 0x1.6247ebp+0, 0x1.d2ac28p-31},
    {0x1.633dd1d1929fdp+0, 0x1.84710beb964e5p-54, 0x1.633dd2p+0, -0x1.736b018p-27},
    {0x1.6434634ccc32p+0, -0x1.c483c759d8933p-55, 0x1.6434638p+0, -0x1.999e7p-27},
    {0x1.652b9febc8fb7p+0, -0x1.ae3d5c9a73e09p-54, 0x1.652bap+0, -0x1.437049p-28},
    {0x1.6623882552225p+0, -0x1.bb60987591c34p-54, 0x1.662388p+0, 0x1.2a91128p-27},
    {0x1.671c1c70833f6p+0, -0x1.e8732586c6134p-55, 0x1.671c1c8p+0, -0x1.ef9814p-29},
    {0x1.68155d44ca973p+0, 0x1.038ae44f73e65p-57, 0x1.68155d8p+0, -0x1.d9ab468p-27},
    {0x1.690f4b19e9538p+0, 0x1.804bd9aeb445dp-55, 0x1.690f4bp+0, 0x1.9e9538p-28},
    {0x1.6a09e667f3bcdp+0, -0x1.bdd3413b26456p-54, 0x1.6a09e68p+0, -0x1.80c433p-28},
    {0x1.6b052fa75173ep+0, 0x1.a38f52c9a9d0ep-56, 0x1.6b052f8p+0, 0x1.3a8b9fp-27},
    {0x1.6c012750bdabfp+0, -0x1.2895667ff0b0dp-56, 0x1.6c01278p+0, -0x1.7a12a08p-27},
    {0x1.6cfdcddd47645p+0, 0x1.c7aa9b6f17309p-54, 0x1.6cfdcep+0, -0x1.15c4dd8p-27},
    {0x1.6dfb23c651a2fp+0, -0x1.bbe3a683c88abp-57, 0x1.6dfb24p+0, -0x1.cd72e88p-27},
    {0x1.6ef9298593ae5p+0, -0x1.0b9749e1ac8b2p-54, 0x1.6ef9298p+0, 0x1.64eb94p-30},
    {0x1.6ff7df9519484p+0, -0x1.83c0f25860ef6p-55, 0x1.6ff7df8p+0, 0x1.519484p-28},
    {0x1.70f7466f42e87p+0, 0x1.9d644d45aa65fp-58, 0x1.70f7468p+0, -0x1.0bd179p-28},
    {0x1.71f75e8ec5f74p+0, -0x1.16e4786887a99p-55, 0x1.71f75e8p+0, 0x1.d8bee8p-29},
    {0x1.72f8286ead08ap+0, -0x1.20aa02cd62c72p-54, 0x1.72f8288p+0, -0x1.152f76p-28},
    {0x1.73f9a48a58174p+0, -0x1.0a8d96c65d53cp-54, 0x1.73f9a48p+0, 0x1.4b02e8p-29},
    {0x1.74fbd35d7cbfdp+0, 0x1.047fd618a6e1cp-54, 0x1.74fbd38p+0, -0x1.141a018p-27},
    {0x1.75feb564267c9p+0, -0x1.0245957316dd3p-54, 0x1.75feb58p+0, -0x1.bd9837p-28},
    {0x1.77024b1ab6e09p+0, 0x1.b7877169147f8p-54, 0x1.77024bp+0, 0x1.ab6e09p-28},
    {0x1.780694fde5d3fp+0, 0x1.866b80a02162dp-54, 0x1.780695p+0, -0x1.0d1608p-31},
    {0x1.790b938ac1cf6p+0, 0x1.349a862aadd3ep-54, 0x1.790b938p+0, 0x1.5839ecp-29},
    {0x1.7a11473eb0187p+0, -0x1.41577ee04992fp-55, 0x1.7a1147p+0, 0x1.f580c38p-27},
    {0x1.7b17b0976cfdbp+0, -0x1.bebb58468dc88p-54, 0x1.7b17b08p+0, 0x1.76cfdbp-28},
    {0x1.7c1ed0130c132p+0, 0x1.f124cd1164dd6p-54, 0x1.7c1edp+0, 0x1.30c132p-28},
    {0x1.7d26a62ff86fp+0, 0x1.1bddbfb72b8b4p-54, 0x1.7d26a6p+0, 0x1.7fc378p-27},
    {0x1.7e2f336cf4e62p+0, 0x1.05d02ba15797ep-56, 0x1.7e2f338p+0, -0x1.30b19ep-28},
    {0x1.7f3878491c491p+0, -0x1.07f11cf9311aep-55, 0x1.7f38788p+0, -0x1.b71db78p-27},
    {0x1.80427543e1a12p+0, -0x1.27c86626d972bp-54, 0x1.8042758p+0, -0x1.e0f2f7p-27},
    {0x1.814d2add106d9p+0, 0x1.464370d151d4dp-54, 0x1.814d2bp+0, -0x1.177c938p-27},
    {0x1.82589994cce13p+0, -0x1.d4c1dd41532d8p-54, 0x1.8258998p+0, 0x1.4cce13p-28},
    {0x1.8364c1eb941f7p+0, 0x1.99b9a31df2bd5p-54, 0x1.8364c2p+0, -0x1.46be09p-28},
    {0x1.8471a4623c7adp+0, -0x1.8d684a341cdfbp-55, 0x1.8471a48p+0, -0x1.dc3853p-28},
    {0x1.857f4179f5b21p+0, -0x1.ba748f8b216dp-58, 0x1.857f418p+0, -0x1.82937cp-30},
    {0x1.868d99b4492edp+0, -0x1.fc6f89bd4f6bap-54, 0x1.868d998p+0, 0x1.a249768p-27},
    {0x1.879cad931a436p+0, 0x1.5d2d7d2db47bdp-55, 0x1.879cad8p+0, 0x1.31a436p-28},
    {0x1.88ac7d98a6699p+0, 0x1.994c2f37cb53ap-54, 0x1.88ac7d8p+0, 0x1.8a6699p-28},
    {0x1.89bd0a478580fp+0, 0x1.d53954475202bp-54, 0x1.89bd0a8p+0, -0x1.c3d3f88p-27},
    {0x1.8ace5422aa0dbp+0, 0x1.6e9f156864b27p-54, 0x1.8ace54p+0, 0x1.15506d8p-27},
    {0x1.8be05bad61778p+0, 0x1.ecb5efc43446ep-54, 0x1.8be05b8p+0, 0x1.6b0bbcp-27},
    {0x1.8cf3216b5448cp+0, -0x1.0d55e32e9e3aap-56, 0x1.8cf3218p+0, -0x1.4abb74p-28},
    {0x1.8e06a5e0866d9p+0, -0x1.7114a6fc9b2e6p-54, 0x1.8e06a6p+0, -0x1.f79927p-28},
    {0x1.8f1ae99157736p+0, 0x1.5cc13a2e3976cp-55, 0x1.8f1ae98p+0, 0x1.157736p-28},
    {0x1.902fed0282c8ap+0, 0x1.592ca85fe3fd2p-54, 0x1.902fedp+0, 0x1.41645p-31},
    {0x1.9145b0b91ffc6p+0, -0x1.dd6792e582524p-54, 0x1.9145b08p+0, 0x1.c8ffe3p-27},
    {0x1.925c353aa2fe2p+0, -0x1.3455fa639db7fp-55, 0x1.925c35p+0, 0x1.d517f1p-27},
    {0x1.93737b0cdc5e5p+0, -0x1.75fc781b57ebcp-57, 0x1.93737bp+0, 0x1.9b8bcap-29},
    {0x1.948b82b5f98e5p+0, -0x1.dc3d6797d2d99p-55, 0x1.948b828p+0, 0x1.afcc728p-27},
    {0x1.95a44cbc8520fp+0, -0x1.64b7c96a5f039p-56, 0x1.95a44c8p+0, 0x1.e429078p-27},
    {0x1.96bdd9a7670b3p+0, -0x1.ba5967f19c896p-58, 0x1.96bdd98p+0, 0x1.3b38598p-27},
    {0x1.97d829fde4e5p+0, -0x1.d185b7c1b85d1p-54, 0x1.97d82ap+0, -0x1.0d8d8p-31},
    {0x1.98f33e47a22a2p+0, 0x1.cabdaa24c78edp-56, 0x1.98f33e8p+0, -0x1.c2eeafp-27},
    {0x1.9a0f170ca07bap+0, -0x1.173bd91cee632p-54, 0x1.9a0f17p+0, 0x1.940f74p-29},
    {0x1.9b2bb4d53fe0dp+0, -0x1.dd84e4df6d518p-54, 0x1.9b2bb5p+0, -0x1.5600f98p-27},
    {0x1.9c49182a3f09p+0, 0x1.c7c46b071f2bep-56, 0x1.9c4918p+0, 0x1.51f848p-27},
    {0x1.9d674194bb8d5p+0, -0x1.516bea3dd8233p-54, 0x1.9d67418p+0, 0x1.4bb8d5p-28},
    {0x1.9e86319e32323p+0, 0x1.824ca78e64c6ep-56, 0x1.9e86318p+0, 0x1.e32323p-28},
    {0x1.9fa5e8d07f29ep+0, -0x1.4a9ceaaf1facep-55, 0x1.9fa5e9p+0, -0x1.7c06b1p-27},
    {0x1.a0c667b5de565p+0, -0x1.359495d1cd533p-54, 0x1.a0c6678p+0, 0x1.aef2b28p-27},
    {0x1.a1e7aed8eb8bbp+0, 0x1.c6618ee8be70ep-54, 0x1.a1e7afp+0, -0x1.38a3a28p-27},
    {0x1.a309bec4a2d33p+0, 0x1.6305c7ddc36abp-54, 0x1.a309bfp+0, -0x1.dae9668p-27},
    {0x1.a42c980460ad8p+0, -0x1.aa780589fb12p-54, 0x1.a42c98p+0, 0x1.182b6p-30},
    {0x1.a5503b23e255dp+0, -0x1.d2f6edb8d41e1p-54, 0x1.a5503bp+0, 0x1.1f12ae8p-27},
    {0x1.a674a8af46052p+0, 0x1.50f5630670366p-57, 0x1.a674a88p+0, 0x1.7a3029p-27},
    {0x1.a799e1330b358p+0, 0x1.bcb7ecac563c7p-54, 0x1.a799e1p+0, 0x1.9859acp-27},
    {0x1.a8bfe53c12e59p+0, -0x1.4f867b2ba15a9p-54, 0x1.a8bfe5p+0, 0x1.e0972c8p-27},
    {0x1.a9e6b5579fdbfp+0, 0x1.0fac90ef7fd31p-54, 0x1.a9e6b58p+0, -0x1.4301208p-27},
    {0x1.ab0e521356ebap+0, 0x1.89c31dae94545p-55, 0x1.ab0e52p+0, 0x1.356ebap-28},
    {0x1.ac36bbfd3f37ap+0, -0x1.f9234cae76cdp-55, 0x1.ac36bcp+0, -0x1.60643p-31},
    {0x1.ad5ff3a3c2774p+0, 0x1.7ef3bb6b1b8e5p-54, 0x1.ad5ff38p+0, 0x1.1e13bap-27},
    {0x1.ae89f995ad3adp+0, 0x1.7a1cd345dcc81p-54, 0x1.ae89f98p+0, 0x1.5ad3adp-28},
    {0x1.afb4ce622f2ffp+0, -0x1.4b2fc0f315ecdp-54, 0x1.afb4ce8p+0, -0x1.dd0d01p-28},
    {0x1.b0e07298db666p+0, -0x1.bdef54c80e425p-54, 0x1.b0e0728p+0, 0x1.8db666p-28},
    {0x1.b20ce6c9a8952p+0, 0x1.4dd024a0756ccp-54, 0x1.b20ce7p+0, -0x1.b2bb57p-27},
    {0x1.b33a2b84f15fbp+0, -0x1.2805e3084d708p-57, 0x1.b33a2b8p+0, 0x1.3c57ecp-30},
    {0x1.b468415b749b1p+0, -0x1.f763de9df7c9p-56, 0x1.b468418p+0, -0x1.245b278p-27},
    {0x1.b59728de5593ap+0, -0x1.c71dfbbba6de3p-54, 0x1.b59729p+0, -0x1.0d5363p-27},
    {0x1.b6c6e29f1c52ap+0, 0x1.2a8f352883f6ep-54, 0x1.b6c6e28p+0, 0x1.f1c52ap-28},
    {0x1.b7f76f2fb5e47p+0, -0x1.5584f7e54ac3bp-56, 0x1.b7f76fp+0, 0x1.7daf238p-27},
    {0x1.b928cf22749e4p+0, -0x1.b721654cb65c6p-54, 0x1.b928cfp+0, 0x1.13a4f2p-27},
    {0x1.ba5b030a1064ap+0, -0x1.efcd30e54292ep-54, 0x1.ba5b03p+0, 0x1.420c94p-29},
    {0x1.bb8e0b79a6f1fp+0, -0x1.f52d1c9696205p-60, 0x1.bb8e0b8p+0, -0x1.964384p-30},
    {0x1.bcc1e904bc1d2p+0, 0x1.23dd07a2d9e84p-55, 0x1.bcc1e9p+0, 0x1.2f0748p-30},
    {0x1.bdf69c3f3a207p+0, -0x1.c262360ea5b52p-60, 0x1.bdf69cp+0, 0x1.f9d1038p-27},
    {0x1.bf2c25bd71e09p+0, -0x1.efdca3f6b9c73p-54, 0x1.bf2c258p+0, 0x1.eb8f048p-27},
    {0x1.c06286141b33dp+0, -0x1.d8a5aa1fbca34p-55, 0x1.c06286p+0, 0x1.41b33dp-28},
    {0x1.c199bdd85529cp+0, 0x1.11065895048ddp-55, 0x1.c199bep+0, -0x1.3d56b2p-27},
    {0x1.c2d1cd9fa652cp+0, -0x1.6e51617c8a5d7p-54, 0x1.c2d1cd8p+0, 0x1.fa652cp-28},
    {0x1.c40ab5fffd07ap+0, 0x1.b4537e083c60ap-54, 0x1.c40ab6p+0, -0x1.7c3p-39},
    {0x1.c544778fafb22p+0, 0x1.12f072493b5afp-54, 0x1.c544778p+0, 0x1.f5f644p-29},
    {0x1.c67f12e57d14bp+0, 0x1.2884dff483cadp-54, 0x1.c67f13p+0, -0x1.a82eb5p-28},
    {0x1.c7ba88988c933p+0, -0x1.e76bbbe255559p-55, 0x1.c7ba888p+0, 0x1.88c933p-28},
    {0x1.c8f6d9406e7b5p+0, 0x1.1acbc48805c44p-56, 0x1.c8f6d98p+0, -0x1.fc8c258p-27},
    {0x1.ca3405751c4dbp+0, -0x1.7f2bed10d08f5p-55, 0x1.ca34058p+0, -0x1.5c764ap-29},
    {0x1.cb720dcef9069p+0, 0x1.503cbd1e949dbp-56, 0x1.cb720ep+0, -0x1.8837cb8p-27},
    {0x1.ccb0f2e6d1675p+0, -0x1.d220f86009093p-56, 0x1.ccb0f3p+0, -0x1.92e98bp-28},
    {0x1.cdf0b555dc3fap+0, -0x1.dd83b53829d72p-55, 0x1.cdf0b58p+0, -0x1.511e03p-27},
    {0x1.cf3155b5bab74p+0, -0x1.a08e9b86dff57p-54, 0x1.cf31558p+0, 0x1.add5bap-27},
    {0x1.d072d4a07897cp+0, -0x1.cbc3743797a9cp-54, 0x1.d072d48p+0, 0x1.03c4bep-27},
    {0x1.d1b532b08c968p+0, 0x1.55636219a36eep-54, 0x1.d1b5328p+0, 0x1.8464b4p-27},
    {0x1.d2f87080d89f2p+0, -0x1.d487b719d8578p-54, 0x1.d2f8708p+0, 0x1.b13e4p-33},
    {0x1.d43c8eacaa1d6p+0, 0x1.3db53bf5a1614p-54, 0x1.d43c8e8p+0, 0x1.6550ebp-27},
    {0x1.d5818dcfba487p+0, 0x1.2ed02d75b3707p-55, 0x1.d5818ep+0, -0x1.822dbc8p-27},
    {0x1.d6c76e862e6d3p+0, 0x1.fe87a4a8165ap-58, 0x1.d6c76e8p+0, 0x1.8b9b4cp-30},
    {0x1.d80e316c98398p+0, -0x1.11ec18beddfe8p-54, 0x1.d80e318p+0, -0x1.367c68p-28},
    {0x1.d955d71ff6075p+0, 0x1.a052dbb9af6bep-54, 0x1.d955d7p+0, 0x1.ff6075p-28},
    {0x1.da9e603db3285p+0, 0x1.c2300696db532p-54, 0x1.da9e6p+0, 0x1.ed99428p-27},
    {0x1.dbe7cd63a8315p+0, -0x1.b76f1926b8be4p-54, 0x1.dbe7cd8p+0, -0x1.c57cebp-28},
    {0x1.dd321f301b46p+0, 0x1.2da5778f018c3p-54, 0x1.dd321fp+0, 0x1.80da3p-27},
    {0x1.de7d5641c0658p+0, -0x1.ca5528e79ba8fp-54, 0x1.de7d568p+0, -0x1.f1fcd4p-27},
    {0x1.dfc97337b9b5fp+0, -0x1.1a5cd4f184b5cp-54, 0x1.dfc973p+0, 0x1.bdcdaf8p-27},
    {0x1.e11676b197d17p+0, -0x1.2b529bd5c7f44p-56, 0x1.e116768p+0, 0x1.8cbe8b8p-27},
    {0x1.e264614f5a129p+0, -0x1.7b627817a1496p-54, 0x1.e264618p+0, -0x1.852f6b8p-27},
    {0x1.e3b333b16ee12p+0, -0x1.9f4a431fdc68bp-54, 0x1.e3b3338p+0, 0x1.8b7709p-27},
    {0x1.e502ee78b3ff6p+0, 0x1.39e8980a9cc8fp-55, 0x1.e502ee8p+0, -0x1.d30028p-30},
    {0x1.e653924676d76p+0, -0x1.63ff87522b735p-55, 0x1.e653928p+0, -0x1.cc4945p-27},
    {0x1.e7a51fbc74c83p+0, 0x1.2d522ca0c8de2p-54, 0x1.e7a51f8p+0, 0x1.e3a6418p-27},
    {0x1.e8f7977cdb74p+0, -0x1.1089480b054b1p-54, 0x1.e8f7978p+0, -0x1.9246p-31},
    {0x1.ea4afa2a490dap+0, -0x1.e9c23179c2893p-54, 0x1.ea4afap+0, 0x1.52486dp-27},
    {0x1.eb9f4867cca6ep+0, 0x1.4832f2293e4f2p-54, 0x1.eb9f488p+0, -0x1.833592p-28},
    {0x1.ecf482d8e67f1p+0, -0x1.c93f3b411ad8cp-54, 0x1.ecf483p+0, -0x1.38cc078p-27},
    {0x1.ee4aaa218851p+0, 0x1.1c68da487568dp-54, 0x1.ee4aaap+0, 0x1.0c4288p-27},
    {0x1.efa1bee615a27p+0, 0x1.dc7f486a4b6bp-54, 0x1.efa1bfp+0, -0x1.9ea5d9p-28},
    {0x1.f0f9c1cb6412ap+0, -0x1.3220065181d45p-54, 0x1.f0f9c2p+0, -0x1.a4df6bp-27},
    {0x1.f252b376bba97p+0, 0x1.3a1a5bf0d8e43p-54, 0x1.f252b38p+0, -0x1.288ad2p-29},
    {0x1.f3ac948dd7274p+0, -0x1.95a5a3ed837dep-56, 0x1.f3ac948p+0, 0x1.bae4e8p-29},
    {0x1.f50765b6e454p+0, 0x1.9d3e12dd8a18bp-54, 0x1.f507658p+0, 0x1.b722ap-27},
    {0x1.f6632798844f8p+0, 0x1.fa37b3539343ep-54, 0x1.f663278p+0, 0x1.8844f8p-28},
    {0x1.f7bfdad9cbe14p+0, -0x1.dbb12d006350ap-54, 0x1.f7bfdbp+0, -0x1.31a0f6p-27},
    {0x1.f91d802243c89p+0, -0x1.12ea8a779f689p-57, 0x1.f91d8p+0, 0x1.121e448p-27},
    {0x1.fa7c1819e90d8p+0, 0x1.74853f3a5931ep-55, 0x1.fa7c18p+0, 0x1.9e90d8p-28},
    {0x1.fbdba3692d514p+0, -0x1.9677315098eb6p-56, 0x1.fbdba38p+0, -0x1.6d2aecp-28},
    {0x1.fd3c22b8f71f1p+0, 0x1.2eb74966579e7p-57, 0x1.fd3c228p+0, 0x1.c7b8f88p-27},
    {0x1.fe9d96b2a23d9p+0, 0x1.4a6037442fde3p-56, 0x1.fe9d968p+0, 0x1.9511ec8p-27},
};

constexpr double kInvLn2Over256 = 0x1.71547652b82fep+8;  // RN(256 / ln2)
constexpr double kC1 = 0x1.62e42fefcp-9;                 // ln2 / 256 = c1 + c2 + c3 + O(2^-138)
constexpr double kC2 = -0x1.c610ca86cp-45;
constexpr double kC3 = -0x1.c4c67fc0d0951p-84;
constexpr double kShifter = 0x1.8p52;                 // (y + 1.5 2^52) - 1.5 2^52 = nearest int
constexpr double kInv3FactHi = 0x1.5555555555555p-3;  // 1/3! = hi + lo
constexpr double kInv3FactLo = 0x1.5555555555555p-57;
constexpr double kInv4FactHi = 0x1.5555555555555p-5;  // 1/4! = hi + lo
constexpr double kInv4FactLo = 0x1.5555555555555p-59;
constexpr double kInv5Fact = 0x1.1111111111111p-7;
constexpr double kInv6Fact = 0x1.6c16c16c16c17p-10;
constexpr double kInv7Fact = 0x1.a01a01a01a01ap-13;
constexpr double kInv8Fact = 0x1.a01a01a01a01ap-16;
constexpr double kInv9Fact = 0x1.71de3a556c734p-19;
constexpr double kSplitter = 134217729.0;  // 2^27 + 1
// qd's dd_real::_e and _inf, as literals (no dependence on the order of static initialization).
constexpr double kEHi = 0x1.5bf0a8b145769p+1;
constexpr double kELo = 0x1.4d57ee2b1013ap-53;
constexpr double kInf = std::numeric_limits<double>::infinity();

/** Dekker's split of a (|a| < 2^996 here): a = hi + lo, both of at most 26 bits. */
inline void split(double a, double& hi, double& lo) {
  const double t = kSplitter * a;
  hi = t - (t - a);
  lo = a - hi;
}

/** The exact error of RN(a b) = p, with a = ah + al already split. */
inline double prod_err(double a, double ah, double al, double b, double p) {
#ifdef __FMA__
  (void)ah;
  (void)al;
  return std::fma(a, b, -p);
#else
  (void)a;
  double bh, bl;
  split(b, bh, bl);
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
}

/** s + e = a + b exactly, |a| >= |b| (or a == 0). */
inline double quick_two_sum(double a, double b, double& e) {
  const double s = a + b;
  e = b - (s - a);
  return s;
}

/** s + e = a + b exactly. */
inline double two_sum(double a, double b, double& e) {
  const double s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
  return s;
}

/** The general case: -709 < hi < 709, hi != 0, lo finite, (hi, lo) != (1, 0). */
dd_real exp_core(double hi, double lo) {
  // 1. Reduction: x = (256 k + j) ln2 / 256 + r.
  const double nd = (hi * kInvLn2Over256 + kShifter) - kShifter;
  const auto n = static_cast<std::int64_t>(nd);
  const std::int64_t k = n >> 8;  // floor(n / 256)
  const TableEntry& t = kTable[n & 255];
  const double t1 = hi - nd * kC1;  // exact (N c1 exact, then Sterbenz or a short difference)
  double e1, e2, rl;
  const double s1 = two_sum(t1, -(nd * kC2), e1);
  const double s2 = two_sum(s1, lo, e2);
  const double rh = two_sum(s2, (e1 + e2) - nd * kC3, rl);

  // 2. P = uh + ul = e^{rh + rl} - 1 in double-double (Taylor in s = rh, then the rl correction).
  const double s = rh;
  double sh, sl;
  split(s, sh, sl);
  const double q = kInv5Fact + s * (kInv6Fact + s * (kInv7Fact + s * (kInv8Fact + s * kInv9Fact)));
  double el;
  // a = 1/24 + s q
  const double ah = quick_two_sum(kInv4FactHi, s * q, el);
  const double al = el + kInv4FactLo;
  // b = 1/6 + s a
  double ph = s * ah;
  double pl = prod_err(s, sh, sl, ah, ph);
  const double bh = quick_two_sum(kInv3FactHi, ph, el);
  const double bl = el + (pl + (s * al + kInv3FactLo));
  // c = 1/2 + s b
  ph = s * bh;
  pl = prod_err(s, sh, sl, bh, ph);
  const double ch = quick_two_sum(0.5, ph, el);
  const double cl = el + (pl + s * bl);
  // d = s c
  const double dh = s * ch;
  const double dl = prod_err(s, sh, sl, ch, dh) + s * cl;
  // P = s + s d, then the rl correction e^{rh + rl} - 1 = P + rl (1 + P).
  ph = s * dh;
  pl = prod_err(s, sh, sl, dh, ph) + s * dl;
  const double uh = quick_two_sum(s, ph, el);
  const double ul = (el + pl) + (rl + rl * uh);

  // 3. R = T + T P.
  const double mh = t.hi * uh;
  const double ml = prod_err(t.hi, t.hs, t.ls, uh, mh) + (t.hi * ul + t.lo * uh);
  const double yh0 = quick_two_sum(t.hi, mh, el);
  double yl;
  const double yh = quick_two_sum(yh0, el + (t.lo + ml), yl);

  // 4. Scale by 2^k.
  if (k >= -1022) {
    const double scale = std::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);
    return dd_real(yh * scale, yl * scale);
  }
  const int ki = static_cast<int>(k);
  return dd_real(std::ldexp(yh, ki), std::ldexp(yl, ki));
}

}  // namespace

dd_real dd_exp(const dd_real& x) {
  const double hi = x.x[0];
  const double lo = x.x[1];
  if (!(hi > -709.0 && hi < 709.0) || hi == 0.0 || hi == 1.0 || !std::isfinite(lo)) [[unlikely]] {
    // qd's order of tests: the thresholds on hi, zero, one, then NaN.
    if (hi <= -709.0) return dd_real(0.0, 0.0);
    if (hi >= 709.0) return dd_real(kInf, kInf);  // dd_real::_inf
    if (hi == 0.0) return dd_real(1.0, 0.0);
    if (hi == 1.0 && lo == 0.0) return dd_real(kEHi, kELo);  // dd_real::_e
    if (std::isnan(hi) || !std::isfinite(lo)) {
      // A NaN word propagates; an infinite low word gives the default NaN (inf - inf), as in qd.
      double v = hi + lo;
      if (std::isinf(v)) v = v - v;
      return dd_real(v, v);
    }
  }
  return exp_core(hi, lo);
}

}  // namespace ntp
